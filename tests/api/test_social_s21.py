"""Session 21 QA of social listening through the API: engagement counts beyond 32 bits,
traditional Chinese posts counted for their brand, duplicate groups after an edit, handles
linked to customers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graph.repositories.customers import upsert_customers
from graph.repositories.social import backfill_search_text
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from tests.api.conftest import Api, codes
from tests.api.test_social_api import ok

BILLIONS = {"likes": 3_000_000_000, "reposts": 2**40, "replies": 7, "views": 2**53 - 1}


async def ingest(store: GraphStore, tmp_path: Path, posts: list[dict[str, Any]]) -> list[str]:
    """Imports ``posts`` as a JSONL file with the default terms; the dead letters' reasons."""
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    with BatchScorer(max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, TermMatcher.default())
        await ingest_file(pipeline, path, Checkpoint(tmp_path / "cp.json"), platform="weibo")
    dead = path.with_suffix(".dead.jsonl")
    if not dead.exists():
        return []
    return [r for x in dead.read_text().splitlines() for r in json.loads(x)["reasons"]]


def post(post_id: str, text: str = "招商银行 手机银行 很好用", **extra: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": text,
        "author": "viral_1",
        "created_at": "2026-11-30T08:00:00Z",
        "author_followers": 5_000_000_000,
        **extra,
    }


async def test_counts_beyond_32_bits_are_longs(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    refused = await ingest(
        store,
        tmp_path,
        [
            post("v1", **BILLIONS),
            post("v2", likes=2**53),  # beyond what a JSON number holds exactly
            post("v3", views=2**64),  # was clamped to 2^63 - 1 without a word
            post("v4", likes=True),  # was stored as 1
        ],
    )
    assert len(refused) == 3
    assert refused[0].startswith("likes: Value error, a count from 0 to 9007199254740991")
    assert refused[1].startswith("views: Value error, a count from 0 to 9007199254740991")
    assert refused[2].startswith("likes: Value error, a count, not a boolean")
    query = """{
      mentions(filter: {brand: "招商银行"}) {
        edges { node { postId metrics { likes reposts replies views }
                       author { followers } } } }
      topAuthors(brand: "招商银行") { posts engagement reach }
    }"""
    data = ok(await officer.gql(query))
    [edge] = data["mentions"]["edges"]
    assert edge["node"]["postId"] == "v1"
    assert edge["node"]["metrics"] == BILLIONS
    assert edge["node"]["author"]["followers"] == 5_000_000_000
    engagement = BILLIONS["likes"] + BILLIONS["reposts"] + BILLIONS["replies"]
    assert data["topAuthors"] == [{"posts": 1, "engagement": engagement, "reach": 5_000_000_000}]


TRADITIONAL = "招商銀行的手機銀行真好用"


async def test_traditional_chinese_posts_count_for_their_brand(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    assert (
        await ingest(store, tmp_path, [post("t1", TRADITIONAL), post("t2", "工商银行 排队")]) == []
    )
    query = """{
      mentions(filter: {term: "招商银行"}) { edges { node { postId brands products } } }
      traditional: mentions(filter: {term: "招商銀行"}) { totalCount }
      queried: mentions(filter: {query: "手机银行 AND 好用"}) { totalCount }
      shareOfVoice(brands: ["招商银行", "工商银行"], from: "2026-11-30T00:00:00Z",
                   to: "2026-12-01T00:00:00Z", interval: DAY, timezone: "UTC") {
        brands { brand count }
      }
    }"""
    data = ok(await officer.gql(query))
    nodes = [e["node"] for e in data["mentions"]["edges"]]
    assert nodes == [{"postId": "t1", "brands": ["招商银行"], "products": ["MOBILE-APP"]}]
    assert data["traditional"]["totalCount"] == data["queried"]["totalCount"] == 1
    counts = {b["brand"]: b["count"] for b in data["shareOfVoice"]["brands"]}
    assert counts == {"招商银行": 1, "工商银行": 1}


async def test_search_text_of_stored_posts_is_written_again(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    assert await ingest(store, tmp_path, [post("t1", TRADITIONAL)]) == []
    # As a hub before this change stored it: the text searched as written, version 6.
    await store.write(
        "MATCH (p:Post {postId: 't1'}) SET p.searchText = $text, p.searchTextVersion = 6",
        {"text": TRADITIONAL},
    )
    assert await backfill_search_text(store) == 1
    found = ok(await officer.gql('{ mentions(filter: {term: "招商银行"}) { totalCount } }'))
    assert found["mentions"]["totalCount"] == 1


LINK = """mutation($id: ID!, $handle: String!) {
  linkSocialAccount(customerId: $id, platform: "weibo", handle: $handle) { customerLinked }
}"""


async def test_a_handle_links_as_ingest_takes_it_and_to_one_customer(
    store: GraphStore, agent: Api
) -> None:
    await upsert_customers(store, [{"id": "C1", "props": {}}, {"id": "C2", "props": {}}])
    for bad in ("x" * 300, "wxm\u202e2025", ""):
        body = await agent.gql(LINK, {"id": "C1", "handle": bad})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "handle"
    assert "formatting character" in str(
        await agent.gql(LINK, {"id": "C1", "handle": "wxm\u202e2025"})
    )
    assert ok(await agent.gql(LINK, {"id": "C1", "handle": "@wxm_2025"}))
    assert ok(await agent.gql(LINK, {"id": "C1", "handle": "wxm_2025"}))  # again: the same
    taken = await agent.gql(LINK, {"id": "C2", "handle": "wxm_2025"})
    assert codes(taken) == ["HANDLE_LINKED"], taken
    assert "another customer" in taken["errors"][0]["message"]
    assert "C1" not in taken["errors"][0]["message"]
    owners = await store.read(
        "MATCH (c:Customer)-[:HAS_SOCIAL]->(a:SocialAccount) RETURN c.id AS c, a.handle AS h"
    )
    assert owners == [{"c": "C1", "h": "wxm_2025"}]
