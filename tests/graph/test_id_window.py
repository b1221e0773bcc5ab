"""The customer list's id window (graph/repositories/customer_page.id_window) reads ranges
that grow from the cursor instead of sorting every id above it, and pages exactly as the
unbounded window does, whatever the ids look like."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.connect import open_store
from graph.repositories.access import customer_id_window
from graph.repositories.customer_page import id_window, window_bounds
from graph.repositories.customers import upsert_customers
from graph.repositories.insights import holdings_page
from graph.store import GraphStore

# Ids of the demo's shape with gaps and other lengths.
IDS = [
    *(f"C{n:06d}" for n in range(1, 260)),
    *(f"C{n:06d}" for n in range(5000, 5020)),  # a gap, then a few
    *(f"C{n:07d}" for n in range(1, 4)),
    "C9",
    "C99",
]


@pytest.fixture
async def own_store() -> AsyncIterator[GraphStore]:
    """A graph of its own: the session graph holds the other tests' ids of every shape, and
    the bounded window's pages there fall back to the exact scan (see MIXED below)."""
    with tempfile.TemporaryDirectory(prefix="c360w-", dir="/tmp") as d:
        store = await open_store(Path(d))
        try:
            yield store
        finally:
            await store.close()


def test_bounds_grow_from_the_anchor() -> None:
    assert window_bounds("C000123") == ["C0002", "C001", "C01", "C1", "D"]
    assert window_bounds("ab") == ["ac", "b"]  # short ids: from the narrowest
    assert window_bounds("") == []


async def test_paging_matches_the_unbounded_window(own_store: GraphStore) -> None:
    store = own_store
    await upsert_customers(store, [{"id": i, "props": {"name": "某"}} for i in IDS])
    for limit in (1, 7, 100):
        after, paged = None, []
        while page := await id_window(store, after, limit):
            assert page == await customer_id_window(store, after, limit)
            paged += page
            after = page[-1]
        assert paged == sorted(IDS)
    assert await id_window(store, "~", 5) == []


async def test_an_empty_book_has_no_page(store: GraphStore) -> None:
    assert await id_window(store, None, 10) == []


# Ids of every shape side by side: FalkorDB 4.16's range scan over the id index orders these
# unlike Cypher (``c.id > 'a'`` gave 'C1' and 'Z', never '客户1'), so a page is checked and
# read again without the index when it is not what an exact page is.
MIXED = ["C1", "C2", "Z", "a0", "b5", "c0", "cust-7", "x" * 300, "客户1", "客户2", "0001", "_"]


async def test_walks_over_mixed_ids_see_every_customer_once_in_order(
    own_store: GraphStore,
) -> None:
    store = own_store
    await upsert_customers(store, [{"id": i, "props": {"name": "某"}} for i in MIXED])
    for limit in (1, 2, 5, 100):
        for window in (id_window, customer_id_window):
            after, paged = None, []
            while page := await window(store, after, limit):
                paged += page
                after = page[-1]
                assert len(paged) <= len(MIXED), (window.__name__, limit, paged)
            assert paged == sorted(MIXED), (window.__name__, limit)
        after, held = "", []
        while rows := await holdings_page(store, after, limit):
            held += [r["id"] for r in rows]
            after = held[-1]
            assert len(held) <= len(MIXED), (limit, held)
        assert held == sorted(MIXED), limit
