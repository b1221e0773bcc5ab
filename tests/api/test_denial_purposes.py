"""A refusal for a token of two roles lists the purposes that would grant the resource to
the roles it names, none of the other role's (QA probe: advisor + marketing_analyst with
X-Purpose marketing asking advisorTasks was told "(allowed: marketing, service)"); the real
Rego engine over the real graph."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from graph.store import GraphStore
from tests.api.conftest import codes

TASKS = "query { advisorTasks(first: 10) { totalCount } }"


async def test_a_two_role_refusal_lists_only_the_named_roles_purposes(
    store: GraphStore, client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    token = make_token(
        ["advisor", "marketing_analyst"], sub="ADV1", purpose="marketing",
        purposes=["marketing", "service"],
    )  # fmt: skip
    response = await client.post(
        "/graphql",
        json={"query": TASKS},
        headers={"Authorization": f"Bearer {token}", "X-Purpose": "marketing"},
    )
    body = response.json()
    assert codes(body) == ["FORBIDDEN"], body
    message = body["errors"][0]["message"]
    assert "for advisor (allowed: service)" in message, message
    assert "marketing," not in message.split("allowed:")[1], message
