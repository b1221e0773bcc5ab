"""Reads stopped by the graph server after the store's ``read_timeout_s`` (the hub sets its
request timeout there): a read the client gave up on stopped holding the server for everyone
(QA, session 16: a brand query ran for minutes after its request's 504)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graph.errors import GraphTimeout
from graph.read_limit import read_limit
from graph.repositories import alert_rules as rules_repo
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.settings import Settings
from resolvers.alert_schedule import AlertScheduler, evaluate_rules
from tests.api.conftest import Api

# Enough posts that a scan of them takes the graph server more than a millisecond, and
# every pair of them (~100 M comparisons) many seconds.
POSTS = 10_000
BRAND = "招商银行"
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
                    "text": f"{BRAND} x{i}",
                    "createdAt": "2025-03-01T02:00:00Z",
                    "brands": [BRAND],
                    "sentimentLabel": "NEUTRAL",
                    "lang": "zh",
                },
                "author": None,
                "brands": [BRAND],
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


# ~100 ms of the server's time on this machine: past a millisecond every time, well within 30 s.
SCAN = "UNWIND range(1, 300000) AS i WITH i WHERE i % 97 = 0 RETURN count(i) AS n"


@pytest.mark.parametrize("path", ["loop", "thread"])
async def test_a_jobs_reads_carry_the_jobs_limit(posts: GraphStore, path: str) -> None:
    # The hub's background jobs (graph/read_limit.py): on the event loop's reader and in the
    # query threads (TLS connections) alike, the limit is the one in force where it was asked.
    threads = getattr(posts, "_threads", None)
    if path == "thread" and threads is None:
        pytest.skip("query threads are the FalkorDB store's")
    reads_on = threads.loop_reads if threads is not None else None
    if path == "thread":
        threads.loop_reads = None
    try:
        posts.read_timeout_s = 0.001
        with pytest.raises(GraphTimeout, match="C360_REQUEST_TIMEOUT_S"):
            await posts.read(SCAN)
        with read_limit(None, "C360_JOB_TIMEOUT_S"):  # no limit for this job
            assert (await posts.read(SCAN))[0]["n"] > 0
        posts.read_timeout_s = 30
        with (
            read_limit(0.001, "C360_JOB_TIMEOUT_S"),
            pytest.raises(GraphTimeout, match="C360_JOB_TIMEOUT_S"),
        ):
            await asyncio.gather(posts.read(SCAN), posts.read(SCAN))
        assert (await posts.read(SCAN))[0]["n"] > 0  # the store's own limit again
    finally:
        if threads is not None:
            threads.loop_reads = reads_on


# A scheduled alert run is a background job, not a request: its reads carry
# C360_JOB_TIMEOUT_S, not the request limit the hub's store holds (a run whose reads needed more
# than the request's 15 s failed at every run, session 16's finding).
WINDOW = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC))


# Each term a scan of the brand's 10 000 posts: past a millisecond at every run.
TERMS = " OR ".join(f"x{i}" for i in range(1, 25))


async def put_rule(store: GraphStore) -> None:
    """A rule whose text query reads every post of the brand many times over."""
    await rules_repo.put_rule(
        store,
        "cmb",
        {
            "brand": BRAND,
            "query": TERMS,
            "threshold": 3.0,
            "baselineDays": 14,
            "minVolume": 10,
            "channels": [],
            "secretRef": None,
            "updatedBy": "t",
            "updatedAt": "2025-01-01T00:00:00Z",
        },
    )


async def run_once(store: GraphStore, settings: Settings) -> AlertScheduler:
    async def get_store() -> GraphStore:
        return store

    scheduler = AlertScheduler(settings, get_store, None)
    scheduler.start()
    try:
        scheduler.request(*WINDOW)
        await asyncio.wait_for(scheduler.settled(), 60)
    finally:
        await scheduler.stop()
    return scheduler


def config(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, alert_eval_s=0, **extra)


async def test_a_scheduled_run_is_not_held_to_the_request_limit(
    posts: GraphStore, tmp_path: Path
) -> None:
    await put_rule(posts)
    posts.read_timeout_s = 0.001  # the hub's store: its requests' limit
    with pytest.raises(GraphTimeout):  # the run's reads do need more than that
        await evaluate_rules(posts, config(tmp_path), *WINDOW)
    scheduler = await run_once(posts, config(tmp_path))
    assert scheduler.runs == 1 and scheduler.last is not None and scheduler.last.rules == 1


async def test_a_scheduled_run_past_the_job_limit_names_that_setting(
    posts: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await put_rule(posts)
    caplog.set_level(logging.WARNING, logger="c360")
    limits = {"job_timeout_s": 0.001, "request_timeout_s": 0.001}  # the job is held to the larger
    scheduler = await run_once(posts, config(tmp_path, **limits))
    assert scheduler.runs == 0
    (failed,) = [r.getMessage() for r in caplog.records if "alert evaluation" in r.getMessage()]
    assert "C360_JOB_TIMEOUT_S" in failed and "C360_REQUEST_TIMEOUT_S" not in failed
