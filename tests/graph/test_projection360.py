"""The 360 projection returns every part exactly as its own reader does (so loaders primed
with it answer the same), for demo customers and a customer with nothing linked."""

from __future__ import annotations

from typing import Any

from graph.repositories import customer360 as repo
from graph.repositories.access import customers_with_access
from graph.repositories.customers import upsert_customers
from graph.repositories.projection360 import LINKED, customer_view
from graph.store import GraphStore
from hub.demo import seed_demo


async def _readers(store: GraphStore, cid: str) -> dict[str, Any]:
    """Each part read by its own reader, as the loaders would."""
    household_of = (await repo.household_by_customer(store, [cid])).get(cid)
    return {
        "customer": (await customers_with_access(store, [cid]))[cid],
        "accounts": (await repo.accounts_by_customer(store, [cid])).get(cid, []),
        "household_of": household_of,
        "household": (await repo.households_by_id(store, [household_of["id"]]))[household_of["id"]]
        if household_of
        else None,
        "advisor": (await repo.advisor_by_customer(store, [cid])).get(cid),
        "related": (await repo.related_by_customer(store, [cid])).get(cid, []),
    }


async def _check(store: GraphStore, cid: str) -> bool:
    """Compares every part; True when the customer has linked customers."""
    view = await customer_view(store, cid, linked=frozenset(LINKED))
    assert view is not None
    expected = await _readers(store, cid)
    for part, value in expected.items():
        assert getattr(view, part) == value, (cid, part)
    # The linked customers are those the view's lists name, read as the customer loader does.
    named = {o for a in expected["accounts"] for o in a["coOwnerIds"]}
    named |= {link["customerId"] for link in expected["related"]}
    named |= {m["customerId"] for m in (expected["household"] or {}).get("members", [])}
    named.discard(cid)
    assert view.linked == await customers_with_access(store, sorted(named))
    # Asked for none, none are read.
    alone = await customer_view(store, cid)
    assert alone is not None and alone.linked == {} and alone.accounts == view.accounts
    return bool(named)


async def test_projection_matches_the_readers_on_demo_customers(store: GraphStore) -> None:
    await seed_demo(store, customers=40, progress=False)
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    linked = [await _check(store, r["id"]) for r in rows]
    assert any(linked) and not all(linked)  # the demo book has both kinds


async def test_projection_of_a_customer_with_nothing_linked(store: GraphStore) -> None:
    await upsert_customers(store, [{"id": "lone", "props": {"name": "孤"}}])
    assert not await _check(store, "lone")
    assert await customer_view(store, "nobody") is None
