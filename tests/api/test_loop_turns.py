"""Turns on the event loop (shared.loop_turns, resolvers.paced_loader, schema/extensions/
loop_turns): a burst of work lets other callbacks run between its units, in arrival order,
and batches still go to the graph whole. A zero slice makes every unit queue, so nothing here
depends on how fast the machine is."""

from __future__ import annotations

import asyncio
import time

import pytest

from graph.store import GraphStore
from resolvers.paced_loader import PacedDataLoader
from shared import loop_turns
from shared.loop_turns import turn
from tests.api.conftest import Api
from tests.api.seed import seed_family
from tests.api.test_round_trips import PAGE

UNITS = 50


async def _burst(units: int, spin_s: float = 0.0) -> tuple[list[int], list[int]]:
    """``units`` tasks ready at once, each taking a turn before its unit of work; returns the
    order they ran in, and how many had run when another task got the loop back."""
    done: list[int] = []

    async def unit(i: int) -> None:
        await turn()
        time.sleep(spin_s)  # holds the loop, as a unit of completion work does
        done.append(i)

    async def other() -> int:
        await asyncio.sleep(0)
        return len(done)

    tasks = [asyncio.create_task(unit(i)) for i in range(units)]
    seen = await asyncio.create_task(other())
    await asyncio.gather(*tasks)
    return done, [seen]


async def test_a_burst_takes_turns_in_arrival_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.0)
    done, [seen] = await _burst(UNITS)
    assert done == list(range(UNITS))
    assert seen <= 2, f"{seen} units ran before another task got the loop back"


async def test_a_slice_holds_several_short_units_but_not_a_burst(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 20 ms units against a 200 ms slice: a few run together, then the loop comes around. (The
    # same ratio as 2 ms against the shipped 10 ms, but a loaded machine pausing the process
    # for 10 ms before the first unit no longer makes the slice run out before it.)
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.2)
    done, [seen] = await _burst(UNITS, spin_s=0.02)
    assert sorted(done) == list(range(UNITS))
    assert 1 <= seen < UNITS // 2


async def test_a_queue_drains_by_slices_not_one_unit_per_iteration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Letting one waiter go per loop iteration cost every queued unit an iteration of its
    # own (a large query took 2.2x as long); the queue now goes while the new slice lasts. A
    # first unit uses the slice up, so the rest queue behind it.
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.5)
    done: list[int] = []

    async def unit(i: int) -> None:
        await turn()
        if i == 0:
            time.sleep(0.6)  # holds the loop past the slice: everyone after it queues
        done.append(i)

    async def iterations_until_done() -> int:
        n = 0
        while len(done) < UNITS:
            await asyncio.sleep(0)
            n += 1
        return n

    tasks = [asyncio.create_task(unit(i)) for i in range(UNITS)]
    iterations = await asyncio.create_task(iterations_until_done())
    await asyncio.gather(*tasks)
    assert done == list(range(UNITS))
    assert iterations < 10, f"{UNITS} short queued units took {iterations} loop iterations"


async def test_a_cancelled_waiter_gives_its_turn_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.0)
    order: list[str] = []

    async def unit(name: str) -> None:
        await turn()
        order.append(name)

    first, middle, last = (asyncio.create_task(unit(n)) for n in ("a", "b", "c"))
    await asyncio.sleep(0)  # all three queue
    middle.cancel()
    await asyncio.wait_for(asyncio.gather(first, last), 5)
    assert order == ["a", "c"]
    assert middle.cancelled()


async def test_keys_loaded_across_turns_go_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.0)
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[int]:
        batches.append(keys)
        return [k * 10 for k in keys]

    loader: PacedDataLoader[int, int] = PacedDataLoader(load_fn=load)

    async def unit(i: int) -> int:
        await turn()  # each unit loads in its own loop iteration
        return await loader.load(i)

    assert await asyncio.gather(*(unit(i) for i in range(20))) == [i * 10 for i in range(20)]
    assert batches == [list(range(20))]


async def test_pages_cost_the_same_round_trips_when_every_field_takes_turns(
    store: GraphStore, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        await seed_family(store, f"t{n}", accounts=3, transactions=5, interactions=4)

    async def cost() -> tuple[int, dict[str, object]]:
        before = store.stats.round_trips
        body = await api.gql(PAGE)
        assert "errors" not in body, body
        return store.stats.round_trips - before, body

    whole, expected = await cost()
    monkeypatch.setattr(loop_turns, "SLICE_S", 0.0)
    paced, body = await cost()
    assert body == expected
    assert paced == whole


async def test_a_value_already_loaded_takes_no_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """A primed (or earlier) value wakes no burst of waiters: the caller goes on at once while
    the slice has time left; a key still loading, or a used-up slice, takes a turn as before."""
    monkeypatch.setattr(loop_turns, "SLICE_S", 60.0)

    async def load(keys: list[int]) -> list[int]:
        return [k * 10 for k in keys]

    loader: PacedDataLoader[int, int] = PacedDataLoader(load_fn=load)
    loader.prime(1, 10)
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    task = asyncio.create_task(other())
    assert await loader.load(1) == 10
    assert ran == [], "a cached value gave the loop away"
    assert await loader.load(2) == 20
    assert ran == ["other"]
    await task

    monkeypatch.setattr(loop_turns, "SLICE_S", 0.0)  # every slice used up
    task = asyncio.create_task(other())
    assert await loader.load(1) == 10
    assert ran == ["other", "other"], "a cached value went on past the slice"
    await task


async def test_load_many_of_loaded_values_answers_like_gather() -> None:
    calls: list[list[int]] = []

    async def load(keys: list[int]) -> list[int | ValueError]:
        calls.append(keys)
        return [ValueError(f"no {k}") if k < 0 else k * 10 for k in keys]

    loader: PacedDataLoader[int, int] = PacedDataLoader(load_fn=load)
    assert await loader.load_many([1, 2, 3]) == [10, 20, 30]
    # All loaded: a finished future with the values in the keys' order, no new batch.
    again = loader.load_many([3, 1, 2, 1])
    assert isinstance(again, asyncio.Future) and again.done()
    assert await again == [30, 10, 20, 10] and calls == [[1, 2, 3]]
    # A key not loaded yet: loaded (one batch), the rest from the cache, order kept.
    assert await loader.load_many([2, 4, 1]) == [20, 40, 10] and calls[-1] == [4]
    # A failed key fails the whole call, as gather does, cached or not.
    with pytest.raises(ValueError, match="no -1"):
        await loader.load_many([1, -1])
    with pytest.raises(ValueError, match="no -1"):
        await loader.load_many([1, -1])
    assert calls[-1] == [-1]  # the failure was kept, not asked again
