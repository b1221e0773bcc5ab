"""Property names survive a replay of the effects log, whatever order they first appear in."""

from __future__ import annotations

import asyncio
from pathlib import Path

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from graph.property_keys import literal_property_names


def test_literal_property_names() -> None:
    query = (
        "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c.seenAt = r.at "
        "WITH c CALL db.indexes() YIELD label RETURN 'x.y' AS s, {total: 1} AS m"
    )
    assert literal_property_names(query) == {"id", "seenAt", "at", "total"}


async def test_a_name_first_compiled_by_an_empty_write_keeps_its_values(short_dir: Path) -> None:
    # FalkorDB gives `foo` its id while compiling the empty MERGE and logs nothing; without
    # declaring it first, the replay numbered `zed`/`foo` differently (segfault on read).
    store = await asyncio.to_thread(FalkorDBStore.embedded, EmbeddedFalkorDB(short_dir))
    try:
        await store.write("CREATE (:Seed {s: 1})")
        await store.write("UNWIND $rows AS r MERGE (:X {foo: r.a})", {"rows": []})
        await store.write("CREATE (:Y {zed: 1})")
        await store.write("CREATE (:X {foo: 2})")
    finally:
        await store.close()
    store = await asyncio.to_thread(FalkorDBStore.embedded, EmbeddedFalkorDB(short_dir))
    try:
        rows = await store.read("MATCH (n) RETURN labels(n)[0] AS l, properties(n) AS p ORDER BY l")
        assert rows == [
            {"l": "Seed", "p": {"s": 1}},
            {"l": "X", "p": {"foo": 2}},
            {"l": "Y", "p": {"zed": 1}},
        ]
    finally:
        await store.close()
