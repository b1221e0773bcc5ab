"""The graph half of an erasure finds the households a customer was the last member of (the
imports engineer's finding: FalkorDB answered null for a comprehension inside a comprehension,
so a sole member's household, with its address, survived the erasure)."""

from __future__ import annotations

from graph.repositories.customers import upsert_customers
from graph.repositories.erasure import customer_footprint, delete_customer
from graph.repositories.households import upsert_households
from graph.store import GraphStore


async def test_a_sole_members_household_goes_with_them(store: GraphStore) -> None:
    await upsert_customers(store, [{"id": i, "props": {"name": i}} for i in ("e1", "e2", "e3")])
    await upsert_households(
        store,
        [
            {"id": "h-alone", "props": {"name": "独家"}, "customerId": "e1", "role": "HEAD"},
            {"id": "h-two", "props": {"name": "两家"}, "customerId": "e2", "role": "HEAD"},
            {"id": "h-two", "props": {}, "customerId": "e3", "role": "SPOUSE"},
        ],
    )
    alone = await customer_footprint(store, "e1")
    assert alone is not None and alone["households"] == [{"id": "h-alone", "last": True}]
    shared = await customer_footprint(store, "e2")
    assert shared is not None and shared["households"] == [{"id": "h-two", "last": False}]
    nothing = await customer_footprint(store, "e9")
    assert nothing is None
    await upsert_customers(store, [{"id": "e4", "props": {"name": "e4"}}])
    lonely = await customer_footprint(store, "e4")
    assert lonely is not None and lonely["households"] == []
    await delete_customer(store, "e1", [h["id"] for h in alone["households"] if h["last"]])
    left = await store.read("MATCH (h:Household) RETURN h.id AS id ORDER BY id")
    assert [r["id"] for r in left] == ["h-two"]


async def test_a_household_without_a_head_loses_the_name_an_erased_member_may_have_given(
    store: GraphStore,
) -> None:
    """Named after its first member when it has no HEAD (resolvers.customers.household_head):
    erasing any member clears its name and address; a household whose HEAD stays keeps them."""
    await upsert_customers(store, [{"id": i, "props": {"name": i}} for i in ("n1", "n2", "n3")])
    await upsert_households(
        store,
        [
            {"id": "h-nohead", "props": {"name": "甲家", "address": "甲路1号"},
             "customerId": "n1", "role": "MEMBER"},
            {"id": "h-nohead", "props": {}, "customerId": "n2", "role": "MEMBER"},
            {"id": "h-headed", "props": {"name": "乙家", "address": "乙路2号"},
             "customerId": "n3", "role": "HEAD"},
            {"id": "h-headed", "props": {}, "customerId": "n1", "role": "CHILD"},
        ],
    )  # fmt: skip
    await delete_customer(store, "n1", [])
    rows = await store.read(
        "MATCH (h:Household) RETURN h.id AS id, h.name AS name, h.address AS address ORDER BY id"
    )
    assert rows == [
        {"id": "h-headed", "name": "乙家", "address": "乙路2号"},
        {"id": "h-nohead", "name": None, "address": None},
    ]
