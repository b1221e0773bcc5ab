from __future__ import annotations

import pytest

from graph.errors import GraphQueryError
from graph.store import GraphStore


async def test_rows_are_plain_dicts_and_errors_are_ours(store: GraphStore) -> None:
    await store.write(
        "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c += r.props",
        {"rows": [{"id": "C1", "props": {"name": "张三", "vip": True, "score": 0.5}}]},
    )
    rows = await store.read("MATCH (c:Customer) RETURN c {.*} AS c, count(c) AS n")
    assert rows == [{"c": {"id": "C1", "name": "张三", "vip": True, "score": 0.5}, "n": 1}]
    with pytest.raises(GraphQueryError):
        await store.read("MATC (n) RETURN n")


async def test_round_trips_are_counted(store: GraphStore) -> None:
    before = store.stats.round_trips
    await store.read("RETURN 1 AS one")
    await store.read("RETURN 2 AS two")
    assert store.stats.round_trips - before == 2
