"""Webhook replay protection (issue 11, item 7): a signed push is good once, within 5 minutes,
whichever worker it reaches and however many at once, and an old copy of a post never rolls
its figures back."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from starlette.applications import Starlette
from starlette.middleware import Middleware

from graph.connect import open_store
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from graph.repositories.webhook_pushes import LEASE_S, claim_push, mark_stored, release_push
from graph.store import GraphStore
from hub.middleware.timeout import TimeoutMiddleware
from ingest.social.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PostsWebhook,
    sign,
    signed_headers,
    webhook_route,
)

SECRET = "replay-secret"


def post_of(likes: int) -> bytes:
    return orjson.dumps(
        {"id": "r1", "text": "服务很好", "author": "a", "created_at": "2025-03-01T08:00:00Z",
         "likes": likes}
    )  # fmt: skip


async def push(app: Starlette, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        return await client.post("/ingest/posts", content=body, headers=headers)


def hub(store: GraphStore, timeout_s: float | None = None) -> Starlette:
    """One hub process's webhook (a fresh one: its own memory of pushes in flight)."""
    middleware = [] if timeout_s is None else [Middleware(TimeoutMiddleware, timeout_s=timeout_s)]
    app = Starlette(routes=[webhook_route(PostsWebhook(SECRET))], middleware=middleware)
    app.state.store = store
    return app


async def likes(store: GraphStore) -> int:
    rows = await store.read("MATCH (p:Post {postId: 'r1'}) RETURN p.likes AS n")
    return int(rows[0]["n"])


async def test_a_replayed_push_is_refused(store: GraphStore) -> None:
    app, body = hub(store), post_of(100)
    headers = signed_headers(SECRET, body)
    assert (await push(app, body, headers)).status_code == 200
    again = await push(app, body, headers)
    assert again.status_code == 401 and "replay" in again.json()["error"]


async def test_timestamp_is_signed_and_must_be_fresh(store: GraphStore) -> None:
    app, body = hub(store), post_of(1)
    stale = signed_headers(SECRET, body, now=time.time() - 301)
    assert (await push(app, body, stale)).status_code == 401
    future = signed_headers(SECRET, body, now=time.time() + 301)
    assert (await push(app, body, future)).status_code == 401
    # Moving a valid signature to a new timestamp breaks it: the time is inside the HMAC.
    moved = {**signed_headers(SECRET, body), TIMESTAMP_HEADER: str(int(time.time()) + 1)}
    assert (await push(app, body, moved)).status_code == 401
    # The old scheme (HMAC of the body alone, no timestamp) is refused.
    old = {SIGNATURE_HEADER: sign(SECRET, body, "").replace("sha256=", "sha256=")}
    assert (await push(app, body, old)).status_code == 401
    assert await store.read("MATCH (p:Post) RETURN count(p) AS n") == [{"n": 0}]


async def test_an_older_copy_never_rolls_likes_back(store: GraphStore) -> None:
    app = hub(store)
    new, old = post_of(100), post_of(1)
    assert (await push(app, new, signed_headers(SECRET, new))).status_code == 200
    assert await likes(store) == 100
    # A later, freshly signed push of the stale copy (e.g. a re-sent export) is accepted...
    assert (
        await push(app, old, signed_headers(SECRET, old, now=time.time() + 1))
    ).status_code == 200
    # ...but the figures only grow.
    assert await likes(store) == 100
    newer = post_of(150)
    assert (await push(app, newer, signed_headers(SECRET, newer))).status_code == 200
    assert await likes(store) == 150


async def test_webhook_item_with_a_control_character_is_400(store: GraphStore) -> None:
    body = orjson.dumps([{"id": "n1", "text": "a\u0000b", "created_at": "2025-03-01T08:00:00Z"}])
    response = await push(hub(store), body, signed_headers(SECRET, body))
    assert response.status_code == 400
    assert response.json()["items"] == [{"index": 0, "reasons": ["contains a control character"]}]
    assert await store.read("MATCH (p:Post) RETURN count(p) AS n") == [{"n": 0}]


def server_memory_limit(embedded: EmbeddedFalkorDB, limit: int) -> None:
    """The graph server's maxmemory (1: every write refused with OOM, as when it is out of
    memory; 0: no limit), set on its own socket as an operator's redis-cli would."""
    with redis.Redis(unix_socket_path=str(embedded.socket_path)) as server:
        server.config_set("maxmemory", limit)


async def test_a_push_the_graph_could_not_take_can_be_retried(short_dir: Path) -> None:
    # The graph server refuses the write (out of memory): 503 with Retry-After and a JSON
    # error, and the sender's retry of the same signed push is stored, not refused as a replay.
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        app, body = hub(store), post_of(7)
        headers = signed_headers(SECRET, body)
        server_memory_limit(embedded, 1)
        failed = await push(app, body, headers)
        server_memory_limit(embedded, 0)
        assert failed.status_code == 503, failed.text
        assert failed.headers["retry-after"] == "1"
        assert "retry" in failed.json()["error"]
        retried = await push(app, body, headers)
        assert retried.status_code == 200, retried.text
        assert retried.json() == {"accepted": 1, "updated": 0, "duplicates": 0}
        assert await likes(store) == 7
        # Stored once: now it is a replay.
        assert (await push(app, body, headers)).status_code == 401
    finally:
        await store.close()


async def test_a_replay_to_another_worker_or_after_a_restart_is_refused(
    store: GraphStore,
) -> None:
    # Session 12 finding: the signatures seen were kept per process, so the same signed push
    # sent to a second worker (or after a restart) was accepted again.
    body = post_of(5)
    headers = signed_headers(SECRET, body)
    assert (await push(hub(store), body, headers)).status_code == 200
    other = await push(hub(store), body, headers)  # a fresh webhook: another process
    assert other.status_code == 401 and "replay" in other.json()["error"], other.text
    # Entries expire with the window: an old one goes when a new push is stored.
    old = time.time() - 3600
    assert await claim_push(store, "sha256=old", "c", old, old - 600)
    fresh = post_of(6)
    assert (await push(hub(store), fresh, signed_headers(SECRET, fresh))).status_code == 200
    rows = await store.read("MATCH (w:WebhookPush) RETURN w.signature AS s, w.stored AS stored")
    assert sorted(r["stored"] for r in rows) == [True, True] and len(rows) == 2
    assert "sha256=old" not in {r["s"] for r in rows}


@pytest.fixture
async def second_store(session_data_dir: Path, store: GraphStore) -> AsyncIterator[GraphStore]:
    """Another connection to the test graph, as a second hub process has: its own pool and
    query threads, so its writes reach the server beside the first store's."""
    other = await open_store(session_data_dir, os.environ.get("C360_TEST_GRAPH_URL", ""))
    yield other
    await other.close()


async def test_two_claims_at_once_from_two_connections_one_wins(
    store: GraphStore, second_store: GraphStore
) -> None:
    # The claim is one write (MERGE, then who holds it): FalkorDB runs a graph's writes one
    # at a time, so of two processes claiming together exactly one is told it holds it.
    now = time.time()
    for i in range(20):
        won = await asyncio.gather(
            claim_push(store, f"sha256=s{i}", "first", now, now - 600),
            claim_push(second_store, f"sha256=s{i}", "second", now, now - 600),
        )
        assert sorted(won) == [False, True], (i, won)
    # A claim write applied but not answered is sent again by the store: still the caller's.
    (entry,) = await _claims(store, "sha256=s0")
    assert await claim_push(second_store, "sha256=s0", entry["claim"], now, now - 600)


async def _claims(store: GraphStore, signature: str) -> list[dict[str, Any]]:
    rows = await store.read(
        "MATCH (w:WebhookPush {signature: $s}) RETURN w {.*} AS w", {"s": signature}
    )
    return [r["w"] for r in rows]


async def test_the_same_push_to_two_workers_at_once_is_stored_once(
    store: GraphStore, second_store: GraphStore
) -> None:
    # Session 14: the signature was written to the graph only after the posts, so the same
    # signed push sent to two workers at the same moment passed both.
    for likes_ in range(1, 6):
        body = post_of(likes_)
        headers = signed_headers(SECRET, body)
        answers = await asyncio.gather(
            push(hub(store), body, headers), push(hub(second_store), body, headers)
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 401], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 401)
        assert "replay" in refused.json()["error"]
        stored = await _claims(store, headers[SIGNATURE_HEADER])
        assert len(stored) == 1 and stored[0]["stored"] is True


def query_memory_limit(embedded: EmbeddedFalkorDB, limit: int) -> None:
    """FalkorDB's memory cap per query (0: none), set as an operator would: a push's write of
    its posts goes over a small cap while the claim of its signature does not."""
    with redis.Redis(unix_socket_path=str(embedded.socket_path)) as server:
        server.execute_command("GRAPH.CONFIG", "SET", "QUERY_MEM_CAPACITY", limit)


def long_posts(n: int, repeat: int = 1000) -> bytes:
    return orjson.dumps(
        [{"id": f"m{i}", "text": f"招行服务{i} " + "很好" * repeat, "author": "a",
          "created_at": "2025-03-01T08:00:00Z"} for i in range(n)]
    )  # fmt: skip


async def test_a_push_whose_posts_the_graph_refuses_after_its_claim_can_be_retried(
    short_dir: Path,
) -> None:
    # The claim is written, then the graph refuses the posts' write (over its per-query
    # memory cap): the claim is released, so the sender's retry (on another worker here) is
    # stored, not refused as a replay of a push that never was.
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        body = long_posts(200)
        headers = signed_headers(SECRET, body)
        query_memory_limit(embedded, 1024 * 1024)
        failed = await push(hub(store), body, headers)
        query_memory_limit(embedded, 0)
        assert failed.status_code == 500, failed.text
        assert await store.read("MATCH (p:Post) RETURN count(p) AS n") == [{"n": 0}]
        assert await store.read("MATCH (w:WebhookPush) RETURN count(w) AS n") == [{"n": 0}]
        retried = await push(hub(store), body, headers)
        assert retried.status_code == 200, retried.text
        assert retried.json() == {"accepted": 200, "updated": 0, "duplicates": 0}
        assert (await push(hub(store), body, headers)).status_code == 401
    finally:
        await store.close()


async def test_a_push_cut_off_by_the_request_timeout_can_be_retried(store: GraphStore) -> None:
    # The hub's request timeout cancels the handler while the posts are scored and written,
    # after the claim: the claim is released, so the sender's retry (after the 504) is taken.
    body = long_posts(1000, 20)
    headers = signed_headers(SECRET, body)
    cut = await push(hub(store, timeout_s=0.5), body, headers)
    assert cut.status_code == 504, cut.text
    retried = await push(hub(store), body, headers)
    assert retried.status_code == 200, retried.text


async def test_a_claim_left_unstored_is_taken_again_after_its_lease(store: GraphStore) -> None:
    # A process that died (or could not release its claim) leaves it unstored: the push is
    # taken again once LEASE_S has passed, while a stored one is refused for the window.
    now = time.time()
    assert await claim_push(store, "sha256=died", "a", now - LEASE_S + 5, now - 600)
    assert not await claim_push(store, "sha256=died", "b", now, now - 600)
    assert await claim_push(store, "sha256=died", "b", now + 6, now + 6 - 600)
    await mark_stored(store, "sha256=died", "b", now - 600)
    assert not await claim_push(store, "sha256=died", "c", now + LEASE_S + 10, now - 600)
    # Past the window even a stored one is taken (its timestamp would be refused anyway).
    assert await claim_push(store, "sha256=died", "c", now + 700, now + 100)
    # A release or mark by a process whose claim was taken over changes nothing.
    await release_push(store, "sha256=died", "b")
    await mark_stored(store, "sha256=died", "b", now - 600)
    assert [(c["claim"], c["stored"]) for c in await _claims(store, "sha256=died")] == [
        ("c", False)
    ]
    # An entry written before claims existed (a stored push: {signature, at} only) refuses.
    await store.write("CREATE (:WebhookPush {signature: 'sha256=older', at: $at})", {"at": now})
    assert not await claim_push(store, "sha256=older", "d", now + LEASE_S + 10, now - 600)
