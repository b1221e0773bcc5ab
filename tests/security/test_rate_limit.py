"""Requests per token subject (hub/rate_limit.py): one runaway client or stolen token is held
to C360_RATE_LIMIT_PER_S (burst C360_RATE_LIMIT_BURST) and answered 429 with Retry-After
before any parse, graph or policy work; other subjects go on. Before: no limit at all (README
Known gaps, "The rate of requests is not limited per caller")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.store import GraphStore
from hub.app import create_app
from hub.logs import FIELDS
from hub.rate_limit import RATE_LIMITED, RateLimiter
from hub.settings import Settings
from hub.ws_transport import ws_limits
from tests.api.test_subscriptions import open_client, until
from tests.api.test_ws_messages import Hub
from tests.live import uvicorn_in_loop

QUERY = {"query": "{ customers(first: 1) { totalCount } }"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def hub_client(
    store: GraphStore, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, RateLimiter]]:
    """A client of the hub (ASGI transport, lifespan running) and the hub's rate limiter."""
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client, app.state.rate_limiter


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [getattr(r, FIELDS) for r in caplog.records if r.name == "c360.request"]


async def test_over_the_rate_a_subject_gets_429_with_retry_after_and_no_work_is_done(
    store: GraphStore,
    data_dir: Path,
    make_token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(data_dir=data_dir, rate_limit_per_s=0.5, rate_limit_burst=2)
    runaway, other = bearer(make_token(sub="runaway")), bearer(make_token(sub="other"))
    async with hub_client(store, settings) as (client, limiter):
        for _ in range(2):  # the burst
            ok = await client.post("/graphql", json=QUERY, headers=runaway)
            assert ok.status_code == 200, ok.text
            assert "errors" not in ok.json(), ok.text
        with caplog.at_level(logging.INFO, logger="c360.request"):
            refused = await client.post("/graphql", json=QUERY, headers=runaway)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/json", refused.headers
        # Half a request a second, the bucket empty: about two seconds, in whole seconds.
        assert refused.headers["retry-after"] in {"1", "2"}, refused.headers
        error = refused.json()["error"]
        assert "C360_RATE_LIMIT_PER_S" in error and "retry after" in error, error
        # Another subject has a bucket of its own.
        assert (await client.post("/graphql", json=QUERY, headers=other)).status_code == 200
        # A bad token is still 401 first, and makes no bucket (no table of made-up subjects).
        bad = await client.post("/graphql", json=QUERY, headers=bearer("not.a.token"))
        assert bad.status_code == 401, bad.text
        assert len(limiter) == 2
    # The request log has the refusal, with the subject; the query was never parsed (its
    # hash is set when the operation runs) so no graph or policy work was done.
    (line,) = [f for f in request_lines(caplog) if f["status"] == 429]
    assert line["subject"] == "runaway", line
    assert line["outcome"] == "refused" and line["error_codes"] == [RATE_LIMITED], line
    assert line["query_sha256"] is None and line["operation"] is None, line


async def test_the_bucket_refills_as_time_passes(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    settings = Settings(data_dir=data_dir, rate_limit_per_s=1, rate_limit_burst=1)
    headers = bearer(make_token(sub="steady"))
    async with hub_client(store, settings) as (client, _limiter):
        assert (await client.post("/graphql", json=QUERY, headers=headers)).status_code == 200
        refused = await client.post("/graphql", json=QUERY, headers=headers)
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"] == "1"  # under a second, rounded up
        await asyncio.sleep(1.05)  # a second refills one request
        again = await client.post("/graphql", json=QUERY, headers=headers)
        assert again.status_code == 200, again.text


async def test_a_rate_of_0_is_no_limit(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    settings = Settings(data_dir=data_dir)
    assert settings.rate_limit_per_s == 0  # the default: off
    headers = bearer(make_token(sub="busy"))
    async with hub_client(store, settings) as (client, limiter):
        answers = await asyncio.gather(
            *(client.post("/graphql", json=QUERY, headers=headers) for _ in range(40))
        )
        assert [a.status_code for a in answers] == [200] * 40
        assert len(limiter) == 0


def test_the_table_is_bounded_least_recently_used_out() -> None:
    now = [0.0]
    limiter = RateLimiter(1.0, 1, max_subjects=3, clock=lambda: now[0])
    for subject in ("a", "b", "c"):
        assert limiter.take(subject) == 0.0
    assert limiter.take("a") == pytest.approx(1.0)  # empty: a second to the next request
    limiter.take("d")  # the fourth subject: "b", used longest ago, is dropped
    assert len(limiter) == 3
    assert limiter.take("b") == 0.0  # back with a full bucket
    assert limiter.take("a") > 0  # "a" was kept (and refused again); "c" went for "b"
    assert len(limiter) == 3
    now[0] += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take("a") == 0.0


async def test_a_subscribe_over_the_rate_is_refused_on_a_socket_that_goes_on(
    store: GraphStore, data_dir: Path, free_port: int, make_token: Callable[..., str]
) -> None:
    # One bucket per subject, POSTs and subscribes alike: a request every two seconds here.
    settings = Settings(data_dir=data_dir, rate_limit_per_s=0.5, rate_limit_burst=1)
    app = create_app(settings, store=store)
    token = make_token(["brand_analyst"], sub="streamer", purpose="marketing")
    sub = "subscription { mentionAdded { postId } }"
    async with uvicorn_in_loop(app, free_port, **ws_limits(settings)) as host:
        hub = Hub(host, app)
        client = await open_client(host, token)
        await client.subscribe("first", sub, {})
        await until(lambda: hub.listeners() == 1, "subscribed")
        await client.subscribe("second", sub, {})
        refused = await client.receive()
        assert refused["type"] == "error" and refused["id"] == "second", refused
        (error,) = refused["payload"]
        assert error["extensions"]["code"] == RATE_LIMITED, error
        assert error["extensions"]["retryAfter"] in {1, 2}, error  # whole seconds
        # The socket and its first subscription go on.
        hub.publish("p1")
        delivered = await client.receive()
        assert delivered["id"] == "first" and delivered["type"] == "next", delivered
        # The same subject's POSTs take from the same bucket.
        async with httpx.AsyncClient(base_url=f"http://{host}") as http:
            posted = await http.post("/graphql", json=QUERY, headers=bearer(token))
            assert posted.status_code == 429, posted.text
            await asyncio.sleep(2.05)
            await client.subscribe("later", sub, {})
            await until(lambda: hub.listeners() == 2, "subscribed once the bucket refilled")
        await client.ws.send(json.dumps({"id": "first", "type": "complete"}))
        await client.ws.close()
