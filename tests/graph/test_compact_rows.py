"""graph/compact_rows.py makes the same plain rows as falkordb's QueryResult followed by
graph/falkordb.py's ``_plain`` did, for every value type a reply can hold without nodes."""

from __future__ import annotations

import hiredis
import pytest
from falkordb.query_result import QueryResult

from graph.compact_rows import NeedsSchema, plain_rows, reply_error
from graph.falkordb import FalkorDBStore, _plain_rows
from graph.store import GraphStore

QUERY = """
RETURN 'text' AS s, 'ünï' AS u, 42 AS i, -7 AS neg, 2.5 AS f, true AS t, false AS no,
       null AS nothing, [1, 'two', [3.0, null], {k: 'v'}] AS list, [] AS empty,
       {a: 1, b: {c: ['d']}, e: null} AS map, {} AS emptyMap,
       point({latitude: 1.5, longitude: 2.25}) AS p,
       localdatetime('2026-11-30T13:14:15') AS dt, date('2026-11-30') AS d,
       localtime('13:14:15') AS tm, duration({days: 3, hours: 4}) AS dur
"""


async def _reply(store: FalkorDBStore, query: str) -> object:
    reads = store._threads.loop_reads
    assert reads is not None
    return await reads.send(
        hiredis.pack_command(("GRAPH.RO_QUERY", store._graph.name, query, "--compact"))
    )


async def test_plain_rows_match_the_query_result_path(store: GraphStore) -> None:
    if not isinstance(store, FalkorDBStore) or store._threads.loop_reads is None:
        pytest.skip("compact replies belong to the FalkorDB store")
    reply = await _reply(store, QUERY)
    assert reply_error(reply) is None
    expected = _plain_rows(QueryResult(store._threads._graph, reply))
    assert plain_rows(reply) == expected
    assert expected[0]["map"] == {"a": 1, "b": {"c": ["d"]}, "e": None}
    assert expected[0]["u"] == "ünï" and expected[0]["no"] is False
    # Nothing returned, or statistics only (a write's reply shape).
    assert plain_rows(await _reply(store, "MATCH (n:Nothing) RETURN n.x AS x")) == []
    assert plain_rows([["Cached execution: 0"]]) == []


async def test_nodes_are_left_to_the_schema(store: GraphStore) -> None:
    if not isinstance(store, FalkorDBStore) or store._threads.loop_reads is None:
        pytest.skip("compact replies belong to the FalkorDB store")
    await store.write("CREATE (:Probe {id: 'p'})-[:NEXT]->(:Probe {id: 'q'})")
    for query in (
        "MATCH (n:Probe) RETURN n",
        "MATCH ()-[r:NEXT]->() RETURN r",
        "MATCH p = (:Probe)-[:NEXT]->(:Probe) RETURN p",
    ):
        with pytest.raises(NeedsSchema):
            plain_rows(await _reply(store, query))  # type: ignore[arg-type]


async def test_errors_are_found_in_the_reply(store: GraphStore) -> None:
    if not isinstance(store, FalkorDBStore) or store._threads.loop_reads is None:
        pytest.skip("compact replies belong to the FalkorDB store")
    assert reply_error(await _reply(store, "RETURN nope(1)")) is not None
    runtime = await _reply(store, "UNWIND [1, 0] AS x RETURN 1 / x")  # integer division by zero
    assert reply_error(runtime) is not None
