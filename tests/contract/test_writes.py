"""Writes: MERGE idempotence under concurrent writers, big UNWIND batches, stable pages."""

from __future__ import annotations

import asyncio

from graph.repositories.customers import upsert_customers
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from tests.opened import opened


async def test_concurrent_identical_upserts_make_one_node(cstore: GraphStore) -> None:
    row = {"id": "C1", "props": {"name": "张三", "segment": "MASS"}}
    await asyncio.gather(*(upsert_customers(cstore, [row]) for _ in range(40)))
    rows = opened(cstore, await cstore.read("MATCH (c:Customer) RETURN c.id AS id, c.name AS name"))
    assert rows == [{"id": "C1", "name": "张三"}]


async def test_concurrent_upserts_on_a_composite_key_make_one_node(cstore: GraphStore) -> None:
    post = {
        "platform": "x",
        "postId": "42",
        "ingestedAt": "2025-03-01T00:00:00Z",
        "props": {"text": "招商银行", "createdAt": "2025-03-01T00:00:00Z"},
        "author": {"handle": "a", "props": {"followers": 3}},
        "brands": ["招商银行"],
        "products": [],
    }
    await asyncio.gather(*(upsert_posts(cstore, [post]) for _ in range(20)))
    rows = await cstore.read(
        "MATCH (p:Post) OPTIONAL MATCH (s:SocialAccount) OPTIONAL MATCH (b:Brand) "
        "RETURN count(DISTINCT p) AS posts, count(DISTINCT s) AS authors, "
        "count(DISTINCT b) AS brands"
    )
    assert rows == [{"posts": 1, "authors": 1, "brands": 1}]


async def test_one_unwind_writes_thousands_of_rows_in_one_round_trip(cstore: GraphStore) -> None:
    rows = [
        {"id": f"T{i:05d}", "props": {"amount": float(i), "kind": "DEBIT"}} for i in range(5000)
    ]
    before = cstore.stats.round_trips
    await cstore.write(
        "UNWIND $rows AS r MERGE (t:Transaction {id: r.id}) SET t += r.props", {"rows": rows}
    )
    assert cstore.stats.round_trips - before == 1
    totals = await cstore.read("MATCH (t:Transaction) RETURN count(t) AS n, sum(t.amount) AS s")
    assert totals == [{"n": 5000, "s": float(sum(range(5000)))}]


async def test_skip_limit_pages_cover_every_row_exactly_once(cstore: GraphStore) -> None:
    # Many ties on the sort key: only the id tie-breaker makes the order total.
    await cstore.write(
        "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c.rank = r.rank",
        {"rows": [{"id": f"C{i:04d}", "rank": i % 7} for i in range(237)]},
    )
    seen: list[str] = []
    for skip in range(0, 237 + 25, 25):
        page = await cstore.read(
            "MATCH (c:Customer) RETURN c.id AS id ORDER BY c.rank, c.id SKIP $skip LIMIT $limit",
            {"skip": skip, "limit": 25},
        )
        seen += [r["id"] for r in page]
    expected = sorted((f"C{i:04d}" for i in range(237)), key=lambda c: (int(c[1:]) % 7, c))
    assert seen == expected
