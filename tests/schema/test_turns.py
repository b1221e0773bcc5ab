"""Loader awaiters take turns on the event loop (resolvers/turns.py): a batch that wakes many
resolvers at once no longer runs them all before the loop looks at anything else."""

from __future__ import annotations

import asyncio
import time

from resolvers.turns import SLICE_S, TurnTakingLoader

AWAITERS = 200
WORK_S = 0.001  # each awaiter's own work once its value is in


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_other_callbacks_run_between_slices_of_a_woken_batch() -> None:
    loop = asyncio.get_running_loop()
    loader: TurnTakingLoader[int, int] = TurnTakingLoader(load_fn=_values)
    finished: list[int] = []
    probe_saw: list[int] = []

    async def awaiter(key: int) -> None:
        await loader.load(key)
        _busy(WORK_S)
        finished.append(key)

    async def probe() -> None:
        # Stands for a request that arrives while the batch is being worked through.
        await asyncio.sleep(0.005)
        probe_saw.append(len(finished))

    await asyncio.gather(*(awaiter(k) for k in range(AWAITERS)), probe())
    assert sorted(finished) == list(range(AWAITERS))
    # Without turns the probe would see all 200 done (~200 ms of work in one stretch).
    slice_work = int(SLICE_S / WORK_S)
    assert probe_saw and probe_saw[0] < AWAITERS // 2, (probe_saw, slice_work)
    assert loop.is_running()


async def test_load_many_takes_one_turn_for_the_list() -> None:
    loader: TurnTakingLoader[int, int] = TurnTakingLoader(load_fn=_values)
    assert await loader.load_many([3, 1, 2]) == [6, 2, 4]
    assert await loader.load(5) == 10


async def _values(keys: list[int]) -> list[int]:
    return [k * 2 for k in keys]
