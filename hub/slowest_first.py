"""Items keyed by a time that only moves later, the earliest first: the connections still
sending a request body, keyed by when their body is due at the minimum rate
(hub/http_protocol.py evicts the one furthest behind at the connection cap).

A key is updated on every body chunk, and a chunk must cost next to nothing: an update only
stores the new key, and an item is re-sorted when it reaches the top with a stale (earlier)
key. Each update causes at most one re-sort, so taking the earliest is O(log n) amortized. A
linear scan would cost a full pass over up to C360_MAX_CONNECTIONS connections for every
connection accepted at the cap.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

# Entries of items that left are dropped when they reach the top, or all at once when they
# outnumber the items present (plus this slack: a few requests need no rebuild at all).
SLACK = 64


class SlowestFirst(Generic[T]):
    def __init__(self) -> None:
        self._due: dict[T, float] = {}
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()  # ties by arrival; items are never compared

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, item: object) -> bool:
        return item in self._due

    def set(self, item: T, due: float) -> None:
        """Add ``item`` due at ``due``, or move it to ``due`` (never earlier than before)."""
        known = item in self._due
        self._due[item] = due
        if not known:
            heapq.heappush(self._heap, (due, next(self._order), item))

    def discard(self, item: T) -> None:
        if self._due.pop(item, None) is not None and len(self._heap) > 2 * len(self._due) + SLACK:
            self._heap = [(due, next(self._order), it) for it, due in self._due.items()]
            heapq.heapify(self._heap)

    def earliest(self) -> T | None:
        """The item due first (it stays in), or None when there is none."""
        while self._heap:
            key, _, item = self._heap[0]
            due = self._due.get(item)
            if due is None:  # left since: its entry goes
                heapq.heappop(self._heap)
            elif due > key:  # moved later since: sorted again
                heapq.heapreplace(self._heap, (due, next(self._order), item))
            else:
                return item
        return None


__all__ = ["SlowestFirst"]
