"""A DataLoader that takes turns on the event loop (shared.loop_turns) without splitting batches.

strawberry's DataLoader resolves a whole batch at once: 1,500 resolvers then resumed in one
loop iteration with the work after each (building its page, completing its fields), 0.3-0.7 s
with no look at the sockets. Here each caller takes a turn before it resumes. Taking turns
spreads the units that *make* the next level's loads over several iterations, so a batch is
dispatched only once the turns queued ahead of it have run (``when_quiet``): their keys still
go to the graph in one round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable, Iterable
from typing import Any, TypeVar

from strawberry.dataloader import Batch, DataLoader, dispatch_batch

from shared.loop_turns import after_turn, slice_left, when_quiet

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class PacedDataLoader(DataLoader[K, T]):
    """strawberry's DataLoader (same cache, same batch function contract), paced."""

    def load(self, key: K) -> Awaitable[T]:
        if self.cache:
            cached = self.cache_map.get(key)
            if cached is not None and not cached.cancelled():
                # A value already there (primed, or loaded earlier) wakes nobody: while the
                # slice has time left the caller goes on in the step it is running (the 360
                # view's primed loads: 41 -> 20 turns a request); a used-up slice still
                # takes its turn, so a long run of cached loads cannot hold the loop.
                if cached.done() and slice_left():
                    return cached
                return after_turn(cached)
        future: asyncio.Future[T] = self.loop.create_future()
        if self.cache:
            self.cache_map.set(key, future)
        batch = self.batch
        if batch is None or batch.dispatched:
            batch = self.batch = Batch()
            # Like strawberry: the batch collects keys until the next iteration or later.
            self.loop.call_soon(self._schedule, batch)
        batch.add_task(key, future)
        return after_turn(future)

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[T]]:
        keys = list(keys)
        if self.cache and slice_left():
            # Every value already loaded (the 360 prefetch primes them): one finished future,
            # not a gather over them, whose answer would wait for the loop's next iteration.
            values: list[T] = []
            for key in keys:
                cached = self.cache_map.get(key)
                if (
                    cached is None
                    or not cached.done()
                    or cached.cancelled()
                    or cached.exception() is not None
                ):
                    break
                values.append(cached.result())
            else:
                done: asyncio.Future[list[T]] = self.loop.create_future()
                done.set_result(values)
                return done
        return super().load_many(keys)

    def _schedule(self, batch: Batch[K, T]) -> None:
        batch._dispatch_task = self.loop.create_task(self._dispatch(batch))

    async def _dispatch(self, batch: Batch[Any, Any]) -> None:
        await when_quiet()
        await dispatch_batch(self, batch)


__all__ = ["PacedDataLoader"]
