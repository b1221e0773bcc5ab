"""Turns at the policy engine, shared fairly between callers (token subjects).

The engine evaluates a few decision batches at once (the embedded engine one per interpreter).
Left to a plain first-come queue, one request that starts many batches together (a query of
30 aliased scoped searches) fills the queue, and every other caller's decision waits behind
all of them, long enough to fail closed at the policy timeout. Turns per request are not
enough either: one token opening many requests (or websockets) at once would get a turn for
each. Here a ``caller`` (in practice ``caller_of(principal)``: the token's subject) is served round
robin: a free slot goes to the next waiting caller with nothing at the engine, and only when
every waiting caller has a batch out to the one with the fewest out. So another caller's
decision waits for at most the batches already at the engine (one slot's worth: the first to
finish is its), never for a queue of one caller's; and a caller alone (one service account,
one busy advisor at night) still uses every slot rather than one of them. A caller's own
batches go in the order they asked, so its earlier requests are served first. Decisions and
the one batch per request and customer are unchanged; only the order is.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, deque
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
    """At most ``slots`` turns out; a free slot goes to the next waiting caller holding none,
    else to the waiting caller holding fewest."""

    def __init__(self, slots: int = DECISION_SLOTS) -> None:
        if slots < 1:
            raise ValueError(f"a decision queue needs at least one slot, not {slots}")
        self.slots = slots
        self._held: Counter[Hashable] = Counter()  # caller -> its turns out
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
        while self._held.total() < self.slots:
            if not self._waiting:
                return
            # Round robin among callers holding no turn; when all hold some, the fewest.
            caller = min(self._waiting, key=self._held.__getitem__)
            turns = self._waiting.pop(caller)
            granted = turns.popleft()
            if turns:
                self._waiting[caller] = turns  # to the back of the round
            if granted.done():
                # Cancelled (its request ended) in the loop pass that freed this slot, before
                # its waiter could withdraw it: not a turn to hand out.
                continue
            self._held[caller] += 1
            granted.set_result(None)

    def _release(self, caller: Hashable) -> None:
        self._held[caller] -= 1
        if not self._held[caller]:
            del self._held[caller]
        self._dispatch()

    def _withdraw(self, caller: Hashable, granted: asyncio.Future[None]) -> None:
        turns = self._waiting.get(caller)
        if turns is not None and granted in turns:
            turns.remove(granted)
            if not turns:
                del self._waiting[caller]
