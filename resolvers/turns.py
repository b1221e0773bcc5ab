"""Turns on the event loop for work that wakes up all at once.

A DataLoader batch of 1,500 keys resolves 1,500 futures in one go; asyncio then runs every
awaiting resolver in the next loop iteration, one after the other, before it looks at a
socket again: a large (legitimate) query held /healthz and every other request for up to a
second. :func:`take_turn` bounds such a burst: awaiters run straight on while the current slice
(``SLICE_S``) lasts; after that they wait in line and are let go a slice's worth per loop
iteration, and every iteration polls the sockets first, so other requests get in between.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Hashable, Iterable
from typing import TypeVar
from weakref import WeakKeyDictionary

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

SLICE_S = 0.02


class _Turns:
    """One loop's turn queue: once a slice is used up, awaiters wait in line and are let go
    about a slice's worth (as many as the last slice ran) per loop iteration, so ready I/O
    (polled at every iteration) runs between the batches."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.started = time.perf_counter()
        self.ran = 0  # awaiters let through in the current slice
        self.batch = 1
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.release_scheduled = False

    def schedule_release(self) -> None:
        if not self.release_scheduled:
            self.release_scheduled = True
            self.loop.call_soon(self._release)

    def _release(self) -> None:
        self.release_scheduled = False
        released = 0
        while self.waiting and released < self.batch:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                released += 1
        if self.waiting:
            self.schedule_release()  # runs after the next poll, behind the I/O it finds
        else:
            self.started, self.ran = time.perf_counter(), 0  # the line is empty: a new slice


_turns: WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = WeakKeyDictionary()


async def take_turn() -> None:
    """Return at once while the current slice lasts; after it, wait in line (see above)."""
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = _Turns(loop)
    if not turns.waiting:
        if time.perf_counter() - turns.started < SLICE_S:
            turns.ran += 1
            return
        turns.batch = max(1, turns.ran)
    turn: asyncio.Future[None] = loop.create_future()
    turns.waiting.append(turn)
    turns.schedule_release()
    await turn


async def _in_turn(pending: Awaitable[V]) -> V:
    value = await pending
    await take_turn()
    return value


class TurnTakingLoader(DataLoader[K, V]):
    """A DataLoader whose awaiters take turns (:func:`take_turn`) once their batch is in."""

    def load(self, key: K) -> Awaitable[V]:
        return _in_turn(super().load(key))

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        # One turn for the whole list: a page of 100 customers completes in one slice.
        pending = asyncio.gather(*(DataLoader.load(self, key) for key in keys))
        return _in_turn(pending)


__all__ = ["SLICE_S", "TurnTakingLoader", "take_turn"]
