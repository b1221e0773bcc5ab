"""Turns on the event loop for work that wakes up all at once.

A DataLoader batch of 1,500 keys resolves 1,500 futures in one go; asyncio then runs every
awaiting resolver in the next loop iteration, one after the other, before it looks at a
socket again: a large (legitimate) query held /healthz and every other request for up to a
second. :func:`take_turn` gives such a burst time slices: once the current slice has run
``SLICE_S``, each awaiter goes to the back of the ready queue, and the slice only restarts
after the loop has polled its sockets, so other requests get in between slices.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Hashable, Iterable
from typing import TypeVar
from weakref import WeakKeyDictionary

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

SLICE_S = 0.02


class _Slice:
    __slots__ = ("marker_pending", "started")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marker_pending = False

    def restart(self) -> None:
        self.started = time.perf_counter()
        self.marker_pending = False


_slices: WeakKeyDictionary[asyncio.AbstractEventLoop, _Slice] = WeakKeyDictionary()


async def take_turn() -> None:
    """Yield to the loop when the current slice is used up; otherwise return at once."""
    loop = asyncio.get_running_loop()
    current = _slices.get(loop)
    if current is None:
        current = _slices[loop] = _Slice()
    if time.perf_counter() - current.started < SLICE_S:
        return
    if not current.marker_pending:
        # Queued before this task's own wake-up: it runs after the loop's next socket poll
        # (which appends ready I/O behind everything queued so far) and opens a new slice.
        current.marker_pending = True
        loop.call_soon(current.restart)
    await asyncio.sleep(0)


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
