"""A search scans its candidates whatever its page, and the cost limit counts that: a query
of many aliased searches of one row each is refused before it floods the policy engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from hub.app import create_app
from shared.settings import Settings
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


async def test_a_first_name_search_asks_the_engine_only_what_the_policy_tells_apart(
    store: GraphStore, settings: Settings, make_token: Callable[..., str]
) -> None:
    # Session 22 QA: an agent's first search of a large book decided every attribute set in
    # one engine evaluation (1,272 on 50k customers), which overran the policy timeout; then
    # (session 22) in batches of DECISION_CHUNK sets (tests/privacy/test_decision_fairness.py).
    # Since session 26 the policy is told each customer's advisor only as the asker's own or
    # another's (privacy/stand_ins.py): 600 customers of 150 advisors, 150 attribute sets in
    # the graph (the consents follow the advisor), are two questions (consent yes or no).
    sets = 150
    await upsert_customers(
        store,
        [
            {
                "id": f"C{n:05d}",
                "props": {"name": f"王{n}", "consentMarketing": n % 2 == 0},
                "advisorId": f"ADV{n % sets:04d}",
            }
            for n in range(4 * sets)
        ],
    )
    app = create_app(settings, store=store)
    token = make_token(["service_agent"], sub="sa1", purpose="service", purposes=None)
    query = {"query": '{ customers(search: "王", first: 5) { totalCount } }'}
    async with app.router.lifespan_context(app):
        services = app.state.privacy.services
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:

            async def search() -> Any:
                answer = await c.post(
                    "/graphql", json=query, headers={"Authorization": f"Bearer {token}"}
                )
                return answer.json()

            assert await search() == {"data": {"customers": {"totalCount": 4 * sets}}}
            # The caller's reach (floor and best: one batch of two), then each set as the
            # policy sees it once (150 questions in 1 + 5 batches before session 26).
            assert services.engine_questions == 2 + 2
            batches = 2
            assert services.engine_batches == batches
            # Asked again: every answer is kept, the engine is not asked at all.
            assert await search() == {"data": {"customers": {"totalCount": 4 * sets}}}
            assert (services.engine_questions, services.engine_batches) == (2 + 2, batches)
