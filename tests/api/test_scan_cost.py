"""A search scans its candidates whatever its page, and the cost limit counts that: a query
of many aliased searches of one row each is refused before it floods the policy engine."""

from __future__ import annotations

from collections.abc import Callable

from graph.store import GraphStore
from tests.api.conftest import Api, codes
from tests.api.seed import seed_family

SEARCHES = " ".join(
    f'a{i}: customers(search: "王{i}", first: 1) {{ totalCount }}' for i in range(30)
)
ORDERED = " ".join(
    f"a{i}: customers(orderBy: NAME, segment: HIGH, first: 1) {{ totalCount }}" for i in range(30)
)


async def test_thirty_aliased_searches_are_over_the_cost_limit(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    await seed_family(store, "f")
    advisor = as_role("advisor", "service", "ADV0014")
    body = await advisor.gql("{ " + SEARCHES + " }")
    assert codes(body) == ["QUERY_TOO_COSTLY"], body
    assert body["errors"][0]["extensions"]["cost"] > body["errors"][0]["extensions"]["maxCost"]
    agent = as_role("service_agent", "service", "sa1")
    assert codes(await agent.gql("{ " + ORDERED + " }")) == ["QUERY_TOO_COSTLY"]
    # One search, and a plain listing of many aliases, still pass.
    one = await advisor.gql('{ customers(search: "王0", first: 1) { totalCount } }')
    assert "errors" not in one, one
    plain = " ".join(f"a{i}: customers(first: 1) {{ totalCount }}" for i in range(30))
    assert "errors" not in await agent.gql("{ " + plain + " }")
