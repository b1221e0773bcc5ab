"""Graph round trips in the query threads (graph/falkordb.py QueryThreads): round trips asked
for in one turn go to the threads in groups, answers that finish together reach the event loop
in one wake-up; a cancelled caller leaves the others theirs. Reads go on the event loop
(graph/falkordb_loop.py, tests/graph/test_loop_reads.py): these tests write."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from graph.falkordb import GROUP_SIZE, FalkorDBStore
from graph.store import GraphStore
from tests.graph.hand_offs import count_hand_offs


async def test_answers_finishing_together_take_one_wake_up(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(store, FalkorDBStore):
        pytest.skip("QueryThreads belong to the FalkorDB store")
    loop = asyncio.get_running_loop()
    wake_ups: list[Any] = []
    real = loop.call_soon_threadsafe

    def counting(callback: Any, *args: Any, **kwargs: Any) -> Any:
        wake_ups.append(callback)
        return real(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    reads = [asyncio.create_task(store.write("RETURN $i AS i", {"i": i})) for i in range(8)]
    await asyncio.sleep(0)  # every read has asked (gathered in this turn) ...
    await asyncio.sleep(0)  # ... and is in a query thread now
    time.sleep(0.5)  # the loop is held while the threads answer
    rows = await asyncio.gather(*reads)
    assert [r[0]["i"] for r in rows] == list(range(8))
    assert len(wake_ups) == 1, f"{len(wake_ups)} wake-ups for 8 answers ready together"


async def test_a_cancelled_caller_leaves_the_others_their_answers(store: GraphStore) -> None:
    reads = [asyncio.create_task(store.write("RETURN $i AS i", {"i": i})) for i in range(4)]
    await asyncio.sleep(0)
    reads[1].cancel()
    done = await asyncio.gather(*reads, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert [done[i][0]["i"] for i in (0, 2, 3)] == [0, 2, 3]  # type: ignore[index]
    # The store still answers afterwards (the cancelled round trip finished in its thread).
    assert (await store.read("RETURN 7 AS n"))[0]["n"] == 7


async def test_round_trips_asked_in_one_turn_share_hand_offs(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(store, FalkorDBStore):
        pytest.skip("QueryThreads belong to the FalkorDB store")
    hand_offs = count_hand_offs(store, monkeypatch)
    count = 2 * GROUP_SIZE + 1
    rows = await asyncio.gather(*(store.write("RETURN $i AS i", {"i": i}) for i in range(count)))
    assert [r[0]["i"] for r in rows] == list(range(count))
    assert len(hand_offs) == 3, f"{len(hand_offs)} hand-offs for {count} reads in one turn"
    # A failing round trip fails only its own caller, not the others of its group.
    good, bad = await asyncio.gather(
        store.write("RETURN 1 AS n"), store.write("RETURN nope(1) AS n"), return_exceptions=True
    )
    assert good == [{"n": 1}]
    assert isinstance(bad, Exception)
