"""Persisted queries: an allow-list of GraphQL documents by SHA-256, and APQ-style requests.

``C360_PERSISTED_QUERIES`` names a JSON file: either an object ``{"<sha256 hex>": "<document>"}``
(each key is checked against its document when loaded) or a list of documents. A request may
then send ``extensions.persistedQuery.sha256Hash`` without ``query`` (Apollo's automatic
persisted queries protocol): the hub runs the listed document. With
``C360_PERSISTED_QUERIES_ONLY=true`` every other document is refused before it is parsed, so
production clients can be held to the reviewed queries; without it, documents a client sends
with their hash are remembered (at most ``LEARNED_MAX``), as APQ clients expect.

A remembered document runs by its hash for the token subject that sent it only: shared, a
hash answering with data instead of PersistedQueryNotFound told any caller that someone had run
that exact document (one with a phone number inlined, say). The allow-list is everyone's.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hub.graphql_http import BAD_REQUEST
from shared.echo import echo

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
CODES = frozenset({NOT_FOUND, NOT_ALLOWED, HASH_MISMATCH})
LEARNED_MAX = 1_000


class PersistedQueriesFileError(ValueError):
    """The allow-list file cannot be used; the message says what to fix."""


class PersistedQueryError(Exception):
    """A request the persisted-query rules refuse; ``code`` goes into the error's extensions."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def load_documents(path: Path) -> dict[str, str]:
    """The allow-list in ``path``: hash -> document."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise PersistedQueriesFileError(
            f"cannot read C360_PERSISTED_QUERIES file {path}: {exc.strerror}"
        ) from exc
    except orjson.JSONDecodeError as exc:
        raise PersistedQueriesFileError(f"{path} is not JSON: {exc}") from exc
    if isinstance(value, list) and all(isinstance(d, str) for d in value):
        return {sha256_hex(d): d for d in value}
    if isinstance(value, dict) and all(isinstance(d, str) for d in value.values()):
        for key, document in value.items():
            if key.lower() != sha256_hex(document):
                raise PersistedQueriesFileError(
                    f"{path}: key {key[:16]}... is not the SHA-256 of its document; "
                    "regenerate the file (or write a list of documents and let the hub hash them)"
                )
        return {k.lower(): d for k, d in value.items()}
    raise PersistedQueriesFileError(
        f"{path} must hold a JSON object {{sha256: document}} or a list of documents"
    )


def _requested_hash(extensions: Any) -> str | None:
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if not isinstance(persisted, dict):
        return None
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        # Apollo's protocol has version 1 only; a later one may mean another hash or form.
        raise PersistedQueryError(
            BAD_REQUEST,
            f"persistedQuery.version {echo(json.dumps(version))} is not supported; send "
            'version 1 (automatic persisted queries: {"version": 1, "sha256Hash": "<hex>"})',
        )
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not value:
        raise PersistedQueryError(
            BAD_REQUEST,
            "persistedQuery.sha256Hash must be a string: the SHA-256 of the document, in hex",
        )
    return value.lower()


@dataclass
class PersistedQueries:
    documents: dict[str, str] = field(default_factory=dict)
    only: bool = False
    # (token subject, hash) -> document, least recently used first.
    learned: OrderedDict[tuple[str, str], str] = field(default_factory=OrderedDict)

    @classmethod
    def from_settings(cls, path: Path | None, only: bool) -> PersistedQueries:
        if only and path is None:
            raise PersistedQueriesFileError(
                "C360_PERSISTED_QUERIES_ONLY=true needs C360_PERSISTED_QUERIES=<file>"
            )
        return cls(load_documents(path) if path is not None else {}, only)

    def _known(self, digest: str, subject: str) -> str | None:
        document = self.documents.get(digest)
        key = (subject, digest)
        if document is None and (document := self.learned.get(key)) is not None:
            self.learned.move_to_end(key)
        return document

    def resolve(self, query: str | None, extensions: Any, subject: str) -> str | None:
        """The document to run for a request's ``query`` and ``extensions`` sent by the
        token ``subject``, or PersistedQueryError. ``None`` (no query, no hash) is left to the
        GraphQL layer."""
        digest = _requested_hash(extensions)
        if digest is None:
            if query is None or not self.only:
                return query
            if sha256_hex(query) not in self.documents:
                raise PersistedQueryError(
                    NOT_ALLOWED, "this hub runs persisted queries only; the document is not listed"
                )
            return query
        if query is None:
            known = self._known(digest, subject)
            if known is None:
                # Apollo clients read this message and send the document with its hash.
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
            return known
        if sha256_hex(query) != digest:
            raise PersistedQueryError(
                HASH_MISMATCH, "persistedQuery.sha256Hash is not the SHA-256 of the query"
            )
        if digest not in self.documents:
            if self.only:
                raise PersistedQueryError(
                    NOT_ALLOWED, "this hub runs persisted queries only; the document is not listed"
                )
            self.learned[(subject, digest)] = query
            if len(self.learned) > LEARNED_MAX:
                self.learned.popitem(last=False)
        return query


__all__ = [
    "CODES",
    "HASH_MISMATCH",
    "LEARNED_MAX",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "PersistedQueries",
    "PersistedQueriesFileError",
    "PersistedQueryError",
    "load_documents",
    "sha256_hex",
]
