"""A full 360 query and a customer page cost a constant number of graph round trips."""

from __future__ import annotations

from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.seed import seed_family
from tests.api.test_customer360 import FULL_360

PAGE = """{ customers(first: 20) { totalCount edges { node {
    id name totalAssets segment lifecycleStage
    accounts { id balance coOwners { id } }
    household { members { customer { id } } }
    interactions(first: 3) { edges { node { id } } }
} } } }"""


async def _cost(store: GraphStore, api: Api, query: str, variables: dict[str, str]) -> int:
    before = store.stats.round_trips
    body = await api.gql(query, variables)
    assert "errors" not in body, body
    return store.stats.round_trips - before


async def test_full_360_round_trips_do_not_grow_with_data(store: GraphStore, api: Api) -> None:
    await seed_family(store, "few", accounts=1, transactions=1, interactions=1)
    await seed_family(store, "many", accounts=12, transactions=25, interactions=40)
    few = await _cost(store, api, FULL_360, {"id": "few-1"})
    many = await _cost(store, api, FULL_360, {"id": "many-1"})
    assert few == many
    assert many <= 12


async def test_customer_page_round_trips_do_not_grow_with_page_size(
    store: GraphStore, api: Api
) -> None:
    await seed_family(store, "a", accounts=1, transactions=1, interactions=1)
    small = await _cost(store, api, PAGE, {})
    for n in range(10):
        await seed_family(store, f"b{n}", accounts=3, transactions=5, interactions=4)
    large = await _cost(store, api, PAGE, {})
    body = await api.gql(PAGE)
    assert len(body["data"]["customers"]["edges"]) == 20
    assert small == large
    assert large <= 12
