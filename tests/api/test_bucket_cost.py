"""Through the hub: a trend's buckets and introspection count toward the cost limit (QA
session 26: 30 aliases of a 1 999-bucket hourly trend returned 5.8 MB, 30 aliased __schema
2.9 MB, each holding the event loop for seconds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graphql import get_introspection_query

from graph.store import GraphStore
from shared.settings import Settings
from tests.api.conftest import Api, codes, serve

HOURLY = (
    "query($f: DateTime!, $t: DateTime!) { "
    + " ".join(
        f'a{i}: sentimentTrend(from: $f, to: $t, interval: HOUR, brand: "招商银行") '
        "{ start count positive neutral negative avgScore }"
        for i in range(30)
    )
    + " }"
)


async def test_thirty_aliased_hourly_trends_are_refused_by_their_window(
    as_role: Callable[..., Api],
) -> None:
    brand = as_role("brand_analyst", None, "b1")
    flood = await brand.gql(HOURLY, {"f": "2026-08-01T00:00:00Z", "t": "2026-10-23T07:00:00Z"})
    assert codes(flood) == ["QUERY_TOO_COSTLY"], flood
    assert flood["errors"][0]["extensions"]["cost"] > 300_000
    # The same document over one day is 30 x 25 buckets: it runs.
    day = await brand.gql(HOURLY, {"f": "2026-10-22T00:00:00Z", "t": "2026-10-23T00:00:00Z"})
    assert "errors" not in day, day
    assert len(day["data"]["a0"]) == 24


async def test_introspection_counts_and_the_schema_is_asked_for_once(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    settings = Settings(data_dir=data_dir, introspection=True)
    headers = {"Authorization": f"Bearer {make_token()}"}
    schema = "__schema { types { name fields { name args { name } type { name } } } }"
    async with serve(store, settings) as client:
        graphiql = await client.post(
            "/graphql", json={"query": get_introspection_query(descriptions=True)}, headers=headers
        )
        assert "errors" not in graphiql.json() and graphiql.json()["data"]["__schema"]["types"]
        thirty = "{ " + " ".join(f"a{i}: {schema}" for i in range(30)) + " }"
        body = (await client.post("/graphql", json={"query": thirty}, headers=headers)).json()
        assert codes(body) == ["QUERY_TOO_COSTLY"], body
        assert body["errors"][0]["extensions"] == {
            "code": "QUERY_TOO_COSTLY",
            "schemas": 30,
            "max": 1,
        }
