"""Reads stopped by the graph server after the store's ``read_timeout_s`` (the hub sets its
request timeout there): a read the client gave up on stopped holding the server for everyone
(QA, session 16: a brand query ran for minutes after its request's 504)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from graph.errors import GraphTimeout
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from tests.api.conftest import Api

# Enough posts that a scan of them takes the graph server more than a millisecond, and
# every pair of them (~100 M comparisons) many seconds.
POSTS = 10_000
PAIRS = "MATCH (a:Post), (b:Post) WHERE a.searchText CONTAINS b.postId RETURN count(*) AS n"


@pytest.fixture
async def posts(store: GraphStore) -> AsyncIterator[GraphStore]:
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": f"p{i}",
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {
                    "text": f"x{i}",
                    "createdAt": "2025-03-01T02:00:00Z",
                    "sentimentLabel": "NEUTRAL",
                    "lang": "zh",
                },
                "author": None,
                "brands": [],
                "products": [],
            }
            for i in range(1, POSTS + 1)
        ],
    )
    try:
        yield store
    finally:
        store.read_timeout_s = None


async def test_a_read_past_its_timeout_is_stopped_by_the_server(posts: GraphStore) -> None:
    posts.read_timeout_s = 0.3
    started = time.monotonic()
    with pytest.raises(GraphTimeout):
        await posts.read(PAIRS)
    assert time.monotonic() - started < 5
    assert await posts.read("MATCH (p:Post) RETURN count(p) AS n") == [{"n": POSTS}]


async def test_writes_are_not_timed_out(posts: GraphStore) -> None:
    # FalkorDB would undo a write stopped half-way; the log must have every acknowledged one.
    posts.read_timeout_s = 0.001
    await posts.write(
        "UNWIND range(1, 20000) AS i "
        "MERGE (p:Post {platform: 'weibo', postId: 'w' + toString(i)}) SET p.text = 'w'"
    )
    posts.read_timeout_s = None
    assert await posts.read("MATCH (p:Post {text: 'w'}) RETURN count(p) AS n") == [{"n": 20000}]


async def test_a_stopped_read_is_a_timeout_error_for_the_client(
    posts: GraphStore, officer: Api
) -> None:
    posts.read_timeout_s = 0.001
    body = await officer.gql(
        'query { mentions(filter: {query: "x1 OR x2 OR x3"}, first: 5) { totalCount } }'
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT", error
    assert "C360_REQUEST_TIMEOUT_S" in error["message"]
