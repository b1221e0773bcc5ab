"""Regression: every row of a batch gets its optional link, also when rows share the target.

FalkorDB ran a MERGE inside ``CALL {}`` for the first UNWIND row only, so the repositories
now filter with ``WITH ... WHERE`` instead of a subquery."""

from graph.repositories.accounts import upsert_accounts
from graph.repositories.advisors import upsert_advisors
from graph.repositories.customers import upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore


async def _rels(store: GraphStore, rel: str) -> int:
    rows = await store.read("MATCH ()-[r]->() WHERE type(r) = $t RETURN count(r) AS n", {"t": rel})
    return rows[0]["n"]


async def test_shared_link_targets_in_one_batch(store: GraphStore) -> None:
    ids = ["c1", "c2", "c3"]
    n = await upsert_customers(
        store,
        [{"id": i, "props": {}, "advisorId": "a1"} for i in ids] + [{"id": "c4", "props": {}}],
    )
    assert n == 4
    await upsert_accounts(store, [{"id": f"A{i}", "props": {}, "customerId": i} for i in ids])
    await upsert_households(store, [{"id": "h1", "props": {}, "customerId": i} for i in ids])
    await upsert_interactions(
        store,
        [{"id": f"I{i}", "customerId": i, "productCode": "P1", "props": {}} for i in ids],
    )
    await upsert_advisors(
        store, [{"id": f"a{k}", "props": {}, "branchId": "b1"} for k in range(1, 4)]
    )
    counts = {r: await _rels(store, r) for r in ("MANAGED_BY", "OWNS", "MEMBER_OF", "ABOUT")}
    assert counts == {"MANAGED_BY": 3, "OWNS": 3, "MEMBER_OF": 3, "ABOUT": 3}
    assert await _rels(store, "WORKS_AT") == 3

    # A changed advisor replaces the old link, per row.
    await upsert_customers(store, [{"id": "c1", "props": {}, "advisorId": "a2"}])
    rows = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) RETURN c.id AS c, a.id AS a ORDER BY c"
    )
    assert rows == [{"c": "c1", "a": "a2"}, {"c": "c2", "a": "a1"}, {"c": "c3", "a": "a1"}]
