"""Pages of every listing: opaque cursors, page-size checks and the one ``Page`` shape the
schema turns into a Relay connection (schema/pagination.py).

A cursor is a list of strings as JSON, base64url'd. A listing whose sort key is personal (the
customers by name or by assets) seals that list instead (:class:`CursorSeal`): AES-GCM under
a key in the data dir, bound to what it was made for and stamped with when, so the cursor can
carry the whole sort key (a keyset, which survives its customer leaving) while nothing of it is
readable, it cannot be forged or replayed by another caller, role, purpose, order or filter,
and it stops opening once it is older than ``C360_CURSOR_TTL_S``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from graph.text import has_control
from privacy.datakeys import erasure_signal
from privacy.secrets import SECRETS_DIR, load_or_create_secret
from resolvers.errors import BadUserInput
from shared.change_signal import ChangeSignal

DEFAULT_PAGE_SIZE = 20
CURSOR_KEY_NAME = "cursor-seal"
# The first byte of a sealed cursor: a later format gets another, and an old one is refused
# (start again) rather than misread. V1 (parts only, bound to the order and subject; it never
# expired) is refused since V2 (issue time + parts, bound to the caller's roles, purpose and
# the listing's filter too).
SEALED_V1 = b"\x01"
SEALED_V2 = b"\x02"
_NONCE = 12
# Sealed parts are padded to a multiple of this many bytes: AES-GCM keeps the length, and a
# name's or an amount's length is not the cursor's to tell.
_PAD = 64

T = TypeVar("T")
U = TypeVar("U")


def check_first(first: int | None, max_page_size: int, field: str = "first") -> int:
    """The page size to use; a size above the cap is refused rather than silently cut."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, max_page_size)
    if first < 0:
        raise BadUserInput(f"{field} must be 0 or more", field=field)
    if first > max_page_size:
        raise BadUserInput(
            f"{field} must be at most {max_page_size}", field=field, max=max_page_size
        )
    return first


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode()


def _cursor_bytes(cursor: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(cursor.encode())
    except (binascii.Error, ValueError):
        return None


def _parts(raw: bytes | None, size: int) -> tuple[str, ...] | None:
    """The ``size`` strings a cursor's JSON holds, None when it holds anything else."""
    if raw is None:
        return None
    try:
        return _strings(orjson.loads(raw), size)
    except orjson.JSONDecodeError:
        return None


def _strings(parts: object, size: int) -> tuple[str, ...] | None:
    """``parts`` when it is a list of ``size`` strings, None otherwise. Our cursors never hold
    control characters (graph/text.py): a decoded one that does is not ours, and its parts go
    to the graph as query parameters, where a NUL breaks the query."""
    if (
        not isinstance(parts, list)
        or len(parts) != size
        or not all(isinstance(p, str) for p in parts)
        or has_control(parts)
    ):
        return None
    return tuple(parts)


def decode_cursor(cursor: str | None, size: int, field: str = "after") -> tuple[str, ...] | None:
    """The parts of a cursor made by :func:`encode_cursor`; anything else is bad input."""
    if cursor is None:
        return None
    parts = _parts(_cursor_bytes(cursor), size)
    if parts is None:
        raise BadUserInput("after is not a cursor from this API", field=field)
    return parts


class CursorSeal:
    """Seals and opens cursors that carry personal sort keys (AES-256-GCM). ``bound`` (the
    associated data) names what a cursor was made for, e.g. the listing, its order, filter and
    the caller: a cursor opens only for the same, so one caller cannot replay another's to learn
    where a customer it never saw sorts, and a name cursor is no assets cursor. The sealed
    payload carries its issue time, so a cursor expires (a leaked URL or log line stops
    working, and a caller whose grant was narrowed stops holding a position it was once
    shown) without the key being replaced.

    With ``erasures`` (the data dir's erasure signal, privacy/datakeys.py) the key in use is
    derived from ``key`` and that signal's current token, which every destroyed data key
    replaces: each erasure changes the key in every process before its next seal or open, so
    a cursor captured before it (it may carry the erased customer's name) opens nowhere any
    more, not even with the data dir's key files or a later backup."""

    def __init__(self, key: bytes, erasures: ChangeSignal | None = None) -> None:
        self._key, self._erasures = key, erasures
        self._token = self._erasure_token()
        self._aead = self._cipher(self._token)

    def _erasure_token(self) -> str:
        return self._erasures.token() if self._erasures is not None else ""

    def _cipher(self, token: str) -> AESGCM:
        if not token:  # no erasure yet: the file's key, as before erasures re-keyed it
            return AESGCM(self._key)
        return AESGCM(
            hmac.digest(self._key, b"cursor-seal after " + token.encode(), hashlib.sha256)
        )

    def _current(self) -> AESGCM:
        token = self._erasure_token()  # one read of the signal a seal or open
        if token != self._token:
            self._token, self._aead = token, self._cipher(token)
        return self._aead

    def seal(self, bound: str, *parts: str) -> str:
        # Whole seconds since the epoch: ten digits until 2286, so the length stays padded.
        plain = orjson.dumps([int(time.time()), list(parts)])
        plain += b" " * (-len(plain) % _PAD)  # JSON ignores trailing blanks
        nonce = os.urandom(_NONCE)
        sealed = self._current().encrypt(nonce, plain, bound.encode())
        return base64.urlsafe_b64encode(SEALED_V2 + nonce + sealed).decode()

    def open(
        self, cursor: str | None, size: int, bound: str, ttl_s: int, field: str = "after"
    ) -> tuple[str, ...] | None:
        """The parts of a cursor :meth:`seal` made with ``bound`` at most ``ttl_s`` seconds
        ago; a cursor tampered with, made for another caller, role, purpose, order or filter,
        under another key, of an older format, or expired is bad input, and the client starts
        again from the first page."""
        if cursor is None:
            return None
        raw = _cursor_bytes(cursor)
        opened = None
        if raw is not None and raw[:1] == SEALED_V2 and len(raw) > 1 + _NONCE:
            nonce, sealed = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
            try:
                opened = _stamped(self._current().decrypt(nonce, sealed, bound.encode()), size)
            except InvalidTag:
                opened = None
        if opened is None:
            raise BadUserInput(
                f"{field} is not a cursor of this listing for this caller (tampered with, made "
                "for another caller, role, purpose, order or filter, or from an earlier "
                f"version): start again from the first page (without {field})",
                field=field,
            )
        issued, parts = opened
        # Only an authentic cursor gets here, so saying it expired tells nothing of another's.
        if int(time.time()) - issued > ttl_s:
            raise BadUserInput(
                f"{field} is a cursor that expired (cursors last {ttl_s} s): start again from "
                f"the first page (without {field})",
                field=field,
            )
        return parts


def _stamped(plain: bytes, size: int) -> tuple[int, tuple[str, ...]] | None:
    """(issue time, parts) of an opened V2 payload ``[issued, [parts]]``; None otherwise."""
    try:
        payload = orjson.loads(plain)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    issued, parts = payload
    if not isinstance(issued, int) or isinstance(issued, bool):
        return None
    found = _strings(parts, size)
    return None if found is None else (issued, found)


_seals: dict[str, CursorSeal] = {}


def cursor_seal(data_dir: Path) -> CursorSeal:
    """The data dir's cursor seal: its key is ``keys/cursor-seal.key`` (0600, created once),
    so every ``--workers`` process of a hub opens the others' cursors, re-keyed by every
    erasure (see CursorSeal). Replacing the key (and restarting) invalidates every sealed
    cursor given out."""
    found = _seals.get(str(data_dir))
    if found is None:
        key = load_or_create_secret(data_dir, CURSOR_KEY_NAME)
        found = _seals[str(data_dir)] = CursorSeal(key, erasure_signal(data_dir / SECRETS_DIR))
    return found


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: (item, cursor) in page order, whether more follow, and how many
    match in all."""

    items: list[tuple[T, str]]
    has_next: bool
    total: int

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([(convert(item), c) for item, c in self.items], self.has_next, self.total)


def keyed_page(
    items: Sequence[T],
    key: Callable[[T], tuple[str, ...]],
    has_next: bool,
    total: int,
    encode: Callable[..., str] = encode_cursor,
) -> Page[T]:
    """A page whose cursors are its items' keys (the listing's sort key, unique), written by
    ``encode`` (a sealed listing's: see CursorSeal)."""
    return Page([(item, encode(*key(item))) for item in items], has_next, total)


def fetched_page(
    rows: Sequence[T], limit: int, total: int, key: Callable[[T], tuple[str, ...]]
) -> Page[T]:
    """A page read as ``limit + 1`` rows after a cursor: the extra row says more follow."""
    return keyed_page(rows[:limit], key, len(rows) > limit, total)


def page_after(
    items: Sequence[T],
    key: Callable[[T], tuple[str, ...]],
    limit: int,
    after: str | None,
    parts: int = 1,
) -> Page[T]:
    """The ``limit`` items after the cursor ``after`` of a whole listing in ascending ``key``
    order (a cursor is the key of the last item seen: ``parts`` strings)."""
    cursor = decode_cursor(after, parts)
    start = 0 if cursor is None else next(
        (i for i, item in enumerate(items) if key(item) > cursor), len(items)
    )  # fmt: skip
    return fetched_page(items[start : start + limit + 1], limit, len(items), key)


__all__ = [
    "CURSOR_KEY_NAME",
    "DEFAULT_PAGE_SIZE",
    "CursorSeal",
    "Page",
    "check_first",
    "cursor_seal",
    "decode_cursor",
    "encode_cursor",
    "fetched_page",
    "keyed_page",
    "page_after",
]
