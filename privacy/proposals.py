"""Four-eyes proposals in one JSON file: what policy changes and erasure requests share.

A proposal is a dataclass with ``id``, ``proposer`` and ``status``; one person proposes, a
different one decides. The file lives in the data dir (0600, written atomically); every
read-modify-write holds an exclusive lock on a sibling lock file, so a CLI erasure and an API
approval (or two hub workers) cannot lose each other's update.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from privacy.keyring import _locked
from privacy.secrets import write_private

__all__ = ["PENDING", "ProposalFile", "Proposed", "person", "same_person"]

PENDING = "pending"


class Proposed(Protocol):
    id: str
    proposer: str
    status: str


T = TypeVar("T", bound=Proposed)


def same_person(proposer: str, decider: str) -> bool:
    """True when ``decider`` may not decide: the proposer, or nobody identified. Subjects are
    compared as :func:`person` writes them: ``PO-1``, ``po-1 `` and full-width ``ｐｏ-1`` name
    the same officer to a human reading the trail, and an identity provider may hand out any
    of those spellings."""
    return not person(decider) or person(decider) == person(proposer)


def person(subject: str) -> str:
    """The form two subjects are compared in: compatibility-normalised (NFKC: full-width and
    other look-alike forms of a letter become the letter), casefolded, surrounding blanks
    dropped."""
    return unicodedata.normalize("NFKC", subject).strip().casefold()


class ProposalFile(Generic[T]):
    def __init__(self, path: Path, key: str, decode: Callable[[dict[str, Any]], T]) -> None:
        self.path = path
        self._key = key  # the JSON document's list ("proposals", "requests")
        self._decode = decode

    def load(self) -> dict[str, T]:
        if not self.path.is_file():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {p.id: p for p in (self._decode(r) for r in raw.get(self._key, []))}

    def save(self, items: dict[str, T]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {self._key: [asdict(p) for p in items.values()]}  # type: ignore[call-overload]
        # 0600: proposals hold officers' subjects (and policy sources, reasons).
        write_private(self.path, json.dumps(body, ensure_ascii=False, indent=1))

    @contextmanager
    def editing(self) -> Iterator[dict[str, T]]:
        """The proposals, locked; saved on a normal exit (not on an exception)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            items = self.load()
            yield items
            self.save(items)

    def add(self, item: T) -> T:
        with self.editing() as items:
            items[item.id] = item
        return item

    def put(self, item: T) -> None:
        """Store a decided (changed) proposal."""
        self.add(item)
