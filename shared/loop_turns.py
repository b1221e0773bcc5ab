"""Turns on the event loop, so one large request cannot hold it.

asyncio runs every callback that is ready before it looks at the sockets again. A large
GraphQL answer makes thousands ready at once (a DataLoader hands 1,500 pages to 1,500 waiting
resolvers in one go; 15 aliases each complete 100 customers), and the loop then ran 0.3-0.7 s
of them back to back while /healthz and every other request waited.

:func:`turn` is a checkpoint placed before such a unit of work: it returns at once while the
loop's current slice is younger than :data:`SLICE_S` and nobody is queued; otherwise the caller
waits in a FIFO queue. Once per loop iteration, i.e. after each look at the sockets, a new
slice starts and the queue goes, in order, for as long as the slice lasts: a waiter that finds
it used up queues again ahead of the rest. So the loop is held for about one slice plus one
unit at a time, and a burst drains in arrival order with other requests' callbacks between
its slices. (Letting one waiter go per iteration held the same bound, but under load every
unit then cost an iteration of its own: a large query took 2.2x as long, bench/event_loop.py.)

:func:`when_quiet` is for batching (resolvers.paced_loader): a DataLoader dispatches its batch
once the units queued ahead have had their turns, so the keys they load still go to the graph
in one round trip instead of one per turn.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
SLICE_S = 0.01
# How many times a batch waits for the queue ahead of it before it goes anyway (a loop busy
# with other requests' turns must not starve it).
QUIET_ROUNDS = 4


class _Turns:
    """The queue and slice clock of one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._slice_started: float | None = None  # None: the loop came around since
        # (future, is_marker): waiters get a turn each, markers are resolved in passing.
        self._queue: deque[tuple[asyncio.Future[None], bool]] = deque()
        # Waiters let go whose slice ran out before they ran: first at the next iteration.
        self._again: deque[tuple[asyncio.Future[None], bool]] = deque()
        self._released = 0  # waiters let go that have not run yet
        self._first = False  # the next waiter to run is the slice's first: it always runs
        self._scheduled = False

    def busy(self) -> bool:
        return bool(self._queue) or bool(self._again) or self._released > 0

    def goes_on(self) -> bool:
        """Whether the caller goes on in the current slice (started here if none runs): it has
        time left and nobody is queued. Otherwise the caller waits its turn."""
        now = time.perf_counter()
        if self._slice_started is None:
            self._slice_started = now
            self._schedule()
        return not self.busy() and now - self._slice_started < SLICE_S

    async def turn(self) -> None:
        if not self.goes_on():
            await self.wait_turn()

    async def wait_turn(self) -> None:
        queue = self._queue
        while True:
            waiter: asyncio.Future[None] = self._loop.create_future()
            queue.append((waiter, False))
            self._schedule()
            try:
                await waiter
            finally:
                if waiter.done() and not waiter.cancelled():
                    self._released -= 1  # it runs now (or was cancelled after its release)
            if self._first or self.slice_left():
                self._first = False
                return
            queue = self._again  # let go with the others, but the slice is used up

    def slice_left(self) -> bool:
        """Whether the current slice has time left (or none is running)."""
        started = self._slice_started
        return started is None or time.perf_counter() - started < SLICE_S

    async def when_quiet(self) -> None:
        for _ in range(QUIET_ROUNDS):
            if not self.busy():
                return
            if self._queue and self._queue[-1][1]:
                marker = self._queue[-1][0]  # shared by everyone waiting for the same tail
            else:
                marker = self._loop.create_future()
                self._queue.append((marker, True))
                self._schedule()
            # Only _came_around resolves a marker: a cancelled caller leaves it to the others.
            await asyncio.shield(marker)

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._came_around)

    def _came_around(self) -> None:
        """Runs one iteration after it was scheduled (the loop polled its sockets between):
        a new slice, and everyone queued is let go in order (those whose last slice ran out
        first); each runs only if the slice still has time (wait_turn), else queues again."""
        self._scheduled = False
        self._slice_started = None
        if not (self._queue or self._again):
            return
        self._slice_started = time.perf_counter()
        self._first = True
        released, self._again, self._queue = self._again + self._queue, deque(), deque()
        ahead = False  # a waiter let go before this point (it may yet queue again)
        for waiter, marker in released:
            if waiter.done():  # a cancelled waiter gave its turn up
                continue
            if marker and ahead:
                # Passed only once everyone ahead of it has run: a batch waiting for the
                # queue (when_quiet) then holds their keys.
                self._queue.append((waiter, marker))
                continue
            waiter.set_result(None)
            if not marker:
                self._released += 1
                ahead = True
        self._schedule()  # the slice ends when the loop comes around again


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


# The loop asked for last and its turns: a weak-keyed look-up per turn (~20 a request) showed
# in profiles; one process serves from one loop.
_last: tuple[weakref.ref[asyncio.AbstractEventLoop], _Turns] | None = None


def _of_running_loop() -> _Turns:
    global _last
    loop = asyncio.get_running_loop()
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns(loop)
    _last = (weakref.ref(loop), turns)
    return turns


async def turn() -> None:
    """Wait for this loop's next turn when the current slice is used up (see the module)."""
    await _of_running_loop().turn()


def slice_left() -> bool:
    """Whether this loop's current slice has time left: work that wakes nobody (a value
    already loaded) may go on in it without queueing for a turn."""
    return _of_running_loop().slice_left()


async def after_turn(value: Awaitable[T]) -> T:
    """``value``'s result, once this loop's turn has come (so the work after it is paced)."""
    result = await value
    turns = _of_running_loop()
    # Decided before any coroutine is made: most of the 360's ~20 async fields go on at once
    # (turn()'s coroutine for each was ~1 % of the loop's CPU).
    if not turns.goes_on():
        await turns.wait_turn()
    return result


async def when_quiet() -> None:
    """Wait until the turns queued now (and any queued while waiting, up to QUIET_ROUNDS
    times) have run."""
    await _of_running_loop().when_quiet()


__all__ = ["QUIET_ROUNDS", "SLICE_S", "after_turn", "slice_left", "turn", "when_quiet"]
