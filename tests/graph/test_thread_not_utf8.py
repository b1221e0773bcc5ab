"""A reply holding text that is not UTF-8, read in a query thread (writes, and reads when they
do not run on the event loop), is the store's query error as it is on the loop
(tests/graph/test_loop_reads.py): only that query fails, the store goes on. Against the real
embedded FalkorDB, with a string property written past our own client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from graph.errors import NotUtf8Reply
from graph.falkordb import FalkorDBStore
from graph.store import GraphStore
from tests.graph.raw_writes import write_not_utf8_probe

BAD = "MATCH (p:Probe {id: 'bad'}) SET p.seen = true RETURN p.s AS s"


@pytest.fixture
def falkordb(store: GraphStore) -> Iterator[FalkorDBStore]:
    if not isinstance(store, FalkorDBStore):
        pytest.skip("query threads belong to the FalkorDB store")
    write_not_utf8_probe(store)
    yield store


async def test_a_write_whose_reply_is_not_utf8_is_a_query_error(falkordb: FalkorDBStore) -> None:
    with pytest.raises(NotUtf8Reply, match="not UTF-8"):
        await falkordb.write(BAD)
    # The store goes on (the thread's connection was dropped and is opened again).
    assert (await falkordb.write("RETURN 7 AS n")) == [{"n": 7}]


async def test_in_a_group_only_that_write_fails(falkordb: FalkorDBStore) -> None:
    # One group, sent together on one connection (graph/falkordb.py _pipelined), as the
    # writes of one loop turn are handed over: run directly, so the group is exactly these.
    # On one of the store's own query threads, as _submit_gathered runs it: those threads keep
    # every connection of the pool, so another thread (asyncio.to_thread) waited 30 s for one
    # once earlier tests had used them all (CI of 398fb6b).
    loop = asyncio.get_running_loop()
    queries = ["RETURN 1 AS n", BAD, "RETURN 2 AS n"]
    group = [(loop.create_future(), query, None, False, None) for query in queries]
    threads = falkordb._threads
    await asyncio.wrap_future(threads._executor.submit(threads._run_group, loop, group))
    done = await asyncio.gather(*(future for future, *_ in group), return_exceptions=True)
    assert isinstance(done[1], NotUtf8Reply) and "not UTF-8" in str(done[1])
    # The reply after it was read in step: the connection was not cut half-way.
    assert done[0] == [{"n": 1}] and done[2] == [{"n": 2}]
    assert (await falkordb.read("MATCH (p:Probe {id: 'bad'}) RETURN p.seen AS seen")) == [
        {"seen": True}
    ]


async def test_a_read_in_a_query_thread_is_a_query_error(falkordb: FalkorDBStore) -> None:
    # Reads go to the threads where they are not sent on the loop (a server reached over TLS).
    threads = falkordb._threads
    reads_on, threads.loop_reads = threads.loop_reads, None
    try:
        with pytest.raises(NotUtf8Reply):
            await falkordb.read("MATCH (p:Probe) RETURN p.s AS s")
        assert (await falkordb.read("RETURN 3 AS n")) == [{"n": 3}]
    finally:
        threads.loop_reads = reads_on
