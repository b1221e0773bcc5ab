"""Webhook replay protection (issue 11, item 7): a signed push is good once, within 5 minutes,
and an old copy of a post never rolls its figures back."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import redis
from starlette.applications import Starlette

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from graph.repositories.webhook_pushes import push_seen, remember_push
from graph.store import GraphStore
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


def hub(store: GraphStore) -> Starlette:
    app = Starlette(routes=[webhook_route(PostsWebhook(SECRET))])
    app.state.store = store
    return app


async def likes(store: GraphStore) -> int:
    return (await store.read("MATCH (p:Post {postId: 'r1'}) RETURN p.likes AS n"))[0]["n"]


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


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360w-", dir="/tmp") as d:
        yield Path(d)


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
        assert retried.json() == {"accepted": 1, "duplicates": 0}
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
    # Entries expire with the window: an old one goes when a new push is remembered.
    await remember_push(store, "sha256=old", time.time() - 3600, time.time() - 7200)
    assert await push_seen(store, "sha256=old", time.time() - 7200)
    fresh = post_of(6)
    assert (await push(hub(store), fresh, signed_headers(SECRET, fresh))).status_code == 200
    assert not await push_seen(store, "sha256=old", time.time() - 7200)
    rows = await store.read("MATCH (w:WebhookPush) RETURN count(w) AS n")
    assert rows == [{"n": 2}]
