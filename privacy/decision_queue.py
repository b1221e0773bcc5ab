"""Turns at the policy engine, shared fairly between callers (token subjects).

The engine evaluates a few decision batches at once (the embedded engine one per interpreter).
Left to a plain first-come queue, one request that starts many batches together (a query of
30 aliased scoped searches) fills the queue, and every other caller's decision waits behind
all of them, long enough to fail closed at the policy timeout. Turns per request are not
enough either: one token opening many requests (or websockets) at once would get a turn for
each. Here a ``caller`` (in practice ``caller_of(principal)``: the token's subject) has at most
one batch at the engine at a time, and waiting callers take turns round robin: another
caller's decision waits for at most one batch of each caller ahead of it, never for a whole
queue of one caller's. A caller's own batches go in the order they asked, so its earlier
requests are served first. Decisions and the one batch per request and customer are
unchanged; only the order is.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from privacy.types import Principal

__all__ = ["DECISION_SLOTS", "FairQueue", "caller_of"]

# Batches at the engine at once: the embedded engine's interpreters (its pool), so a batch
# that gets a turn starts at once and the policy timeout measures its evaluation, not a wait.
DECISION_SLOTS = 2


def caller_of(principal: Principal) -> Hashable:
    """Whose turn a decision for ``principal`` takes: its token subject. Tagged, so no other
    key a caller of ``FairQueue`` may use (work with no principal never gets this far) can
    share a subject's turns."""
    return ("subject", principal.subject)


class FairQueue:
    """At most ``slots`` turns out, one per caller; waiting callers served in turn."""

    def __init__(self, slots: int = DECISION_SLOTS) -> None:
        if slots < 1:
            raise ValueError(f"a decision queue needs at least one slot, not {slots}")
        self.slots = slots
        self._out = 0
        self._busy: set[Hashable] = set()
        # Caller -> its waiting turns (first asked first), in the order callers are served.
        self._waiting: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(turns) for turns in self._waiting.values())

    @asynccontextmanager
    async def turn(self, caller: Hashable) -> AsyncIterator[None]:
        """Hold one of the engine's slots for ``caller`` while the block runs."""
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(caller, deque()).append(granted)
        self._dispatch()
        try:
            await granted
        except asyncio.CancelledError:
            # Cancelled waiting (the request ended) or just after its turn was handed out:
            # give the turn back either way, or the slot is lost for good.
            if granted.done() and not granted.cancelled():
                self._release(caller)
            else:
                self._withdraw(caller, granted)
            raise
        try:
            yield
        finally:
            self._release(caller)

    def _dispatch(self) -> None:
        while self._out < self.slots:
            caller = next((c for c in self._waiting if c not in self._busy), None)
            if caller is None:
                return
            turns = self._waiting.pop(caller)
            granted = turns.popleft()
            if turns:
                self._waiting[caller] = turns  # to the back of the round
            self._busy.add(caller)
            self._out += 1
            granted.set_result(None)

    def _release(self, caller: Hashable) -> None:
        self._out -= 1
        self._busy.discard(caller)
        self._dispatch()

    def _withdraw(self, caller: Hashable, granted: asyncio.Future[None]) -> None:
        turns = self._waiting.get(caller)
        if turns is not None and granted in turns:
            turns.remove(granted)
            if not turns:
                del self._waiting[caller]
