"""Every walk over the customers in id order (the customer list's pages, graph/repositories/
customer_page.py; the batch walks, access.customer_id_window; the recommender's
insights.holdings_page) lists every customer exactly once, in the order of its id as a
string, whatever the ids look like: FalkorDB 4.16's string index leaves ids out of a range
(``c.id > 'CA' AND c.id < 'D'`` never returns 'Ca' or 'Cé'), so no walk reads through it."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from graph.connect import open_store
from graph.repositories.access import customer_id_window, walk_key
from graph.repositories.customer_page import customer_page
from graph.repositories.customers import upsert_customers
from graph.repositories.insights import holdings_page
from graph.store import GraphStore

# Ids of the demo's shape with gaps and other lengths.
DEMO = [
    *(f"C{n:06d}" for n in range(1, 260)),
    *(f"C{n:06d}" for n in range(5000, 5020)),  # a gap, then a few
    *(f"C{n:07d}" for n in range(1, 4)),
    "C9",
    "C99",
]
# Ids of every shape side by side: the string index orders these unlike Cypher and leaves
# some out of its ranges ('Ca' after 'CA', the ids beyond ASCII; with the 300-character id
# present its ranges return ids outside them and miss the ones inside).
MIXED = ["C1", "C2", "Z", "a0", "b5", "c0", "cust-7", "x" * 300, "客户1", "客户2", "0001", "_"]
CASES = ["CA", "Ca", "Caé", "Cb", "Cc", "Cz", "Cé", "C客", "C_", "D"]


@pytest.fixture
async def own_store() -> AsyncIterator[GraphStore]:
    """A graph of its own: the string index of the session graph answered from the other
    tests' ids while the graph was emptied, not dropped, between tests (clear() drops it
    now), so what it left out here depended on the tests before."""
    with tempfile.TemporaryDirectory(prefix="c360w-", dir="/tmp") as d:
        store = await open_store(Path(d))
        try:
            yield store
        finally:
            await store.close()


Walk = Callable[[GraphStore, str | None, int], Awaitable[list[str]]]


async def _page_ids(store: GraphStore, after: str | None, limit: int) -> list[str]:
    page = await customer_page(store, after, limit, with_accounts=False)
    return [r["id"] for r in page.rows]


async def _holding_ids(store: GraphStore, after: str | None, limit: int) -> list[str]:
    return [r["id"] for r in await holdings_page(store, after or "", limit)]


WALKS: list[Walk] = [_page_ids, customer_id_window, _holding_ids]


async def _walk(store: GraphStore, walk: Walk, limit: int, most: int) -> list[str]:
    after: str | None = None
    seen: list[str] = []
    while page := await walk(store, after, limit):
        seen += page
        after = walk_key(page[-1])  # the list's cursor (customers.by_id)
        assert len(seen) <= most, seen
    return seen


async def _sees_every_customer_once_in_order(store: GraphStore, ids: list[str]) -> None:
    await upsert_customers(store, [{"id": i, "props": {"name": "某"}} for i in ids])
    for walk in WALKS:
        for limit in (1, 2, 3, 7, 100):
            assert await _walk(store, walk, limit, len(ids)) == sorted(ids), (walk, limit)
        assert await walk(store, "\U0010ffff", 5) == []


async def test_demo_ids(own_store: GraphStore) -> None:
    await _sees_every_customer_once_in_order(own_store, DEMO)


async def test_ids_of_every_shape(own_store: GraphStore) -> None:
    await _sees_every_customer_once_in_order(own_store, MIXED)


async def test_ids_the_string_index_leaves_out_of_its_ranges(own_store: GraphStore) -> None:
    await _sees_every_customer_once_in_order(own_store, CASES)
    # Why no walk may read through the index: it answers this range without 'Ca' and 'Cé'.
    rows = await own_store.read(
        "MATCH (c:Customer) WHERE c.id > $after AND c.id < $upper RETURN c.id AS id",
        {"after": "CA", "upper": "D"},
    )
    assert {"Ca", "Cé"} - {r["id"] for r in rows}, "FalkorDB's string index is exact now"


async def test_a_customer_whose_id_is_not_a_string_is_listed(own_store: GraphStore) -> None:
    """c360 writes string ids; a number or a boolean written by another tool is listed where
    its string form (Cypher's toString) sorts, not skipped, not repeated, and a walk that
    ends on one ends (with Python's str as the cursor, '1.5' < '1.500000', it never did)."""
    store = own_store
    await upsert_customers(store, [{"id": i, "props": {"name": "某"}} for i in DEMO[:5]])
    for odd in (42, 1.5, True):
        await store.write("CREATE (:Customer {id: $id, name: 'x'})", {"id": odd})
    await upsert_customers(store, [{"id": "zz", "props": {"name": "某"}}])
    await store.write("CREATE (:Customer {id: 9.25, name: 'x'})")  # '9.250000' > 'C…': late
    expected = [1.5, 42, 9.25, *DEMO[:5], True, "zz"]
    for walk in WALKS:
        for limit in (1, 2, 100):
            seen = await _walk(store, walk, limit, len(expected))
            assert seen == expected, (walk, limit)
    assert [walk_key(i) for i in (1.5, True, False, 42, "a")] == [
        "1.500000", "true", "false", "42", "a"]  # fmt: skip


async def test_an_empty_book_has_no_page(store: GraphStore) -> None:
    for walk in WALKS:
        assert await walk(store, None, 10) == []


async def test_a_page_reads_its_window_once(store: GraphStore) -> None:
    """One id window a page, wherever the cursor is, then the rows (and the accounts beside
    them): the ranges the list once tried through the index first cost up to three reads."""
    await upsert_customers(store, [{"id": i, "props": {"name": "某"}} for i in DEMO])
    for after in (None, "C000100", "C000250", "C9"):
        for with_accounts, reads in ((False, 2), (True, 3)):
            before = store.stats.round_trips
            await customer_page(store, after, 101, with_accounts=with_accounts)
            assert store.stats.round_trips - before == reads, (after, with_accounts)
