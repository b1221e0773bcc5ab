"""The demo book seeded by GRAPH.BULK into an empty graph (hub.demo_bulk) is the graph the
repositories' upserts write: same nodes and properties (sealed fields open to the same
values), same relationships, same 360 views; the indexes exist afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.falkordb import FalkorDBStore
from graph.fieldcipher import cipher_of
from graph.repositories.projection360 import LINKED, customer_view
from graph.store import LOOKUP_INDEXES, NATURAL_KEYS, GraphStore, Row
from hub import demo
from tests.server_client import async_server_client

SEALED = {"Customer": "id", "Household": "id", "Advisor": "id", "Interaction": "customerId"}


async def _nodes(store: GraphStore) -> dict[str, list[Row]]:
    out = {}
    for label, keys in NATURAL_KEYS.items():
        key = keys[0]
        rows = [r["n"] for r in await store.read(f"MATCH (n:{label}) RETURN n {{.*}} AS n")]  # type: ignore[misc]
        if label in SEALED:
            owner = SEALED[label]
            rows = cipher_of(store).open_many(label, [(str(r[owner]), r) for r in rows])
        out[label] = sorted(rows, key=lambda r: str(r[key]))
    return out


async def _edges(store: GraphStore) -> list[tuple[Any, ...]]:
    rows = await store.read(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, coalesce(a.id, a.code) AS a, "
        "coalesce(b.id, b.code) AS b, properties(r) AS p"
    )
    return sorted((r["t"], r["a"], r["b"], sorted(r["p"].items())) for r in rows)


async def _bulk_calls(data_dir: Path) -> int:
    """GRAPH.BULK commands the session's embedded server has run (its own statistics)."""
    client = async_server_client(data_dir / "falkordb" / "falkordb.sock")
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_graph.BULK", {}).get("calls", 0))


async def _contents(store: GraphStore) -> tuple[Any, ...]:
    ids = [r["id"] for r in await store.read("MATCH (c:Customer) RETURN c.id AS id")]
    views = {cid: await customer_view(store, cid, linked=frozenset(LINKED)) for cid in sorted(ids)}
    return await _nodes(store), await _edges(store), views


@pytest.mark.parametrize("parts", [1, 3])
async def test_bulk_seed_writes_what_the_upserts_write(
    sealed_store: GraphStore, session_data_dir: Path, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    store = sealed_store
    if not (isinstance(store, FalkorDBStore) and store.embedded_server):
        pytest.skip("the bulk path is for the embedded graph")
    # Parts of 12: the book in three parts, its transactions from the vectorised generator.
    monkeypatch.setattr(demo, "PART_CUSTOMERS", 36 // parts)
    # The ordinary path: the graph is not empty (one unrelated node), so no bulk load.
    await store.write("CREATE (:Marker {id: 'm'})")
    calls = await _bulk_calls(session_data_dir)
    upserted_counts = await demo.seed_demo(store, customers=36, seed=5, progress=False)
    assert await _bulk_calls(session_data_dir) == calls  # the upserts wrote it
    await store.write("MATCH (m:Marker) DELETE m")
    upserted = await _contents(store)
    await store.clear()

    bulk_counts = await demo.seed_demo(store, customers=36, seed=5, progress=False)
    assert await _bulk_calls(session_data_dir) > calls  # GRAPH.BULK wrote this one
    bulk = await _contents(store)
    upserted_counts.pop("Marker")
    assert bulk_counts == upserted_counts
    assert bulk_counts["Transaction"] > 36 * 20
    assert bulk[0] == upserted[0]  # every node's properties, sealed ones opened
    assert bulk[1] == upserted[1]  # every relationship and its properties
    assert bulk[2] == upserted[2]  # the 360 view of every customer

    # Sealed at rest, indexed as the hub expects.
    (raw,) = await store.read("MATCH (c:Customer {id: 'C000001'}) RETURN c.phone AS phone")
    assert raw["phone"].startswith("enc1:")
    indexes = await store.read("CALL db.indexes() YIELD label, properties, status RETURN *")
    indexed = {(r["label"], p) for r in indexes for p in r["properties"]}
    assert {(lb, k) for lb, keys in NATURAL_KEYS.items() for k in keys} <= indexed
    assert set(LOOKUP_INDEXES) <= indexed
    assert {r["status"] for r in indexes} == {"OPERATIONAL"}
