"""Session 22: upsertCustomer refuses a new id differing from a stored one only by case in any
mix of cases (the stored case-folded ``idKey``), not only in the five spellings it looked up
before (upper, lower, case-folded, capitalised, swapped)."""

from __future__ import annotations

from graph.repositories.customers import existing_customer_ids
from graph.store import GraphStore
from tests.api.conftest import Api, codes

UPSERT = 'mutation($id: ID!) { upsertCustomer(input: {id: $id, name: "x"}) { id } }'


async def test_a_mixed_case_twin_is_refused(store: GraphStore, agent: Api) -> None:
    body = await agent.gql(UPSERT, {"id": "Ab-Cd-7"})
    assert body == {"data": {"upsertCustomer": {"id": "Ab-Cd-7"}}}
    body = await agent.gql(UPSERT, {"id": "aB-cd-7"})
    assert codes(body) == ["ID_CASE_CONFLICT"], body
    assert body["errors"][0]["extensions"]["existing"] == "Ab-Cd-7"
    assert await existing_customer_ids(store, ["aB-cd-7"]) == set()
    body = await agent.gql(UPSERT, {"id": "Ab-Cd-7"})  # the stored id itself still updates
    assert body == {"data": {"upsertCustomer": {"id": "Ab-Cd-7"}}}
