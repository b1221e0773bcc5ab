"""Turns at the policy engine, shared fairly between requests.

The engine evaluates a few decision batches at once (the embedded engine one per interpreter).
Left to a plain first-come queue, one request that starts many batches together (a query of
30 aliased scoped searches) fills the queue, and every other caller's decision waits behind
all of them, long enough to fail closed at the policy timeout. Here a request (a
``requester``, in practice its ``RequestPrivacy``) has at most one batch at the engine at a
time, and waiting requesters take turns round robin: another request's decision waits for at
most one batch of each request ahead of it, never for a whole queue of one request's.
Decisions and the one batch per request and customer are unchanged; only the order is.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

__all__ = ["DECISION_SLOTS", "FairQueue"]

# Batches at the engine at once: the embedded engine's interpreters (its pool), so a batch
# that gets a turn starts at once and the policy timeout measures its evaluation, not a wait.
DECISION_SLOTS = 2


class FairQueue:
    """At most ``slots`` turns out, one per requester; waiting requesters served in turn."""

    def __init__(self, slots: int = DECISION_SLOTS) -> None:
        if slots < 1:
            raise ValueError(f"a decision queue needs at least one slot, not {slots}")
        self.slots = slots
        self._out = 0
        self._busy: set[Hashable] = set()
        # Requester -> its waiting turns, in the order requesters are served next.
        self._waiting: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(turns) for turns in self._waiting.values())

    @asynccontextmanager
    async def turn(self, requester: Hashable) -> AsyncIterator[None]:
        """Hold one of the engine's slots for ``requester`` while the block runs."""
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(requester, deque()).append(granted)
        self._dispatch()
        try:
            await granted
        except asyncio.CancelledError:
            # Cancelled waiting (the request ended) or just after its turn was handed out:
            # give the turn back either way, or the slot is lost for good.
            if granted.done() and not granted.cancelled():
                self._release(requester)
            else:
                self._withdraw(requester, granted)
            raise
        try:
            yield
        finally:
            self._release(requester)

    def _dispatch(self) -> None:
        while self._out < self.slots:
            requester = next((r for r in self._waiting if r not in self._busy), None)
            if requester is None:
                return
            turns = self._waiting.pop(requester)
            granted = turns.popleft()
            if turns:
                self._waiting[requester] = turns  # to the back of the round
            self._busy.add(requester)
            self._out += 1
            granted.set_result(None)

    def _release(self, requester: Hashable) -> None:
        self._out -= 1
        self._busy.discard(requester)
        self._dispatch()

    def _withdraw(self, requester: Hashable, granted: asyncio.Future[None]) -> None:
        turns = self._waiting.get(requester)
        if turns is not None and granted in turns:
            turns.remove(granted)
            if not turns:
                del self._waiting[requester]
