"""QA probe (session 22): ``customers(segment:)`` and other searches that decide their
candidates read at most C360_SEARCH_CANDIDATE_CAP of them, the first ids, and answered a
wrong totalCount above it without a word (a service agent's ``segment: HIGH`` gave 0 on a
50 600-customer book). They are now read and decided in batches of the cap, all of them:
the answer at a small cap is the answer at a cap above the book."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.store import GraphStore
from hub.demo import seed_demo
from hub.settings import Settings
from tests.api.conftest import Api, serve

CAP = 3
LIST = """query($segment: Segment, $search: String, $first: Int, $after: String,
                $order: CustomerOrder) {
  customers(segment: $segment, search: $search, first: $first, after: $after, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id segment } }
  }
}"""


async def listing(api: Api, variables: dict[str, Any], first: int) -> tuple[int, list[str]]:
    """(totalCount, every id of every page) of one listing."""
    ids: list[str] = []
    after: str | None = None
    while True:
        body = await api.gql(LIST, variables | {"first": first, "after": after})
        assert "errors" not in body, body
        page = body["data"]["customers"]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return page["totalCount"], ids
        after = page["pageInfo"]["endCursor"]


async def test_searches_are_exact_above_the_candidate_cap(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    await seed_demo(store, customers=80, seed=42, progress=False)
    (busiest,) = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) RETURN a.id AS id, count(c) AS n "
        "ORDER BY n DESC, id LIMIT 1"
    )
    callers = {
        "agent": (["service_agent"], "service", "sa1"),
        "officer": (["privacy_officer"], "compliance", "po1"),
        "marketing": (["marketing_analyst"], "marketing", "mk1"),
        "advisor": (["advisor"], "service", busiest["id"]),
    }
    asked = [
        ("agent", {"segment": "MASS"}),
        ("agent", {"segment": "MIDDLE"}),
        ("agent", {"search": "王"}),
        ("agent", {"search": "李", "order": "NAME"}),
        ("officer", {"search": "张"}),
        ("officer", {"segment": "MASS", "order": "TOTAL_ASSETS"}),
        ("marketing", {"segment": "MASS"}),
        ("advisor", {"segment": "MASS"}),
    ]

    async def answers(cap: int, first: int) -> list[tuple[int, list[str]]]:
        settings = Settings(data_dir=data_dir, introspection=False, search_candidate_cap=cap)
        async with serve(store, settings) as client:
            out = []
            for who, variables in asked:
                roles, purpose, sub = callers[who]
                api = Api(client, make_token(roles, sub=sub, purpose=purpose, purposes=None))
                out.append(await listing(api, variables, first))
            return out

    exact = await answers(20_000, 100)  # the book fits in one batch
    # The asks are not vacuous: most match more customers than the cap.
    assert sum(total > CAP for total, _ in exact) >= 6, exact
    for (total, ids), (who, variables) in zip(exact, asked, strict=True):
        assert len(ids) == total, (who, variables)
    assert await answers(CAP, 4) == exact


async def test_a_search_reading_more_than_the_ceiling_is_refused_never_cut(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """C360_SEARCH_MAX_CANDIDATES bounds the work of one search (every batch together): above
    it the answer is SEARCH_TOO_BROAD, naming no customer, never a total cut short."""
    await seed_demo(store, customers=80, seed=42, progress=False)
    token = make_token(["service_agent"], sub="sa1", purpose="service", purposes=None)
    mass = {"segment": "MASS"}

    async def ask(ceiling: int, variables: dict[str, Any]) -> dict[str, Any]:
        settings = Settings(
            data_dir=data_dir,
            introspection=False,
            search_candidate_cap=CAP,
            search_max_candidates=ceiling,
        )
        async with serve(store, settings) as client:
            return await Api(client, token).gql(LIST, variables | {"first": 5})

    whole = await ask(80, mass)  # the book exactly: read in full, answered exactly
    assert "errors" not in whole, whole
    total = whole["data"]["customers"]["totalCount"]
    assert total > 10, whole
    for ceiling in (10, CAP, 79):
        body = await ask(ceiling, mass)
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "SEARCH_TOO_BROAD", "maxCandidates": ceiling}
        assert "narrow it" in error["message"], error
        assert (body.get("data") or {}).get("customers") is None, body
        names = await store.read("MATCH (c:Customer) RETURN c.id AS id")
        assert not any(r["id"] in error["message"] for r in names), error
    # A narrow search stays under the ceiling and is answered.
    one = whole["data"]["customers"]["edges"][0]["node"]["id"]
    body = await ask(10, {"search": one})
    assert [e["node"]["id"] for e in body["data"]["customers"]["edges"]] == [one], body
