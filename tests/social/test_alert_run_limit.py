"""A scheduled alert run is a background job, not a request: its graph reads carry
C360_JOB_TIMEOUT_S, not the request limit the hub's store holds (a run whose reads needed more
than the request's 15 s failed at every run, session 16's finding)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graph.errors import GraphTimeout
from graph.repositories import alert_rules as rules_repo
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.settings import Settings
from resolvers.alert_schedule import AlertScheduler, evaluate_rules

BRAND = "招商银行"
POSTS = 10_000
WINDOW = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC))


@pytest.fixture
async def book(store: GraphStore) -> AsyncIterator[GraphStore]:
    """Enough posts of the brand that the rule's text query takes the graph server more than a
    millisecond (tests/api/test_graph_read_timeout.py reads the same shape)."""
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
    await rules_repo.put_rule(
        store,
        "cmb",
        {
            "brand": BRAND,
            "query": "x1 OR x2 OR x3",
            "threshold": 3.0,
            "baselineDays": 14,
            "minVolume": 10,
            "channels": [],
            "secretRef": None,
            "updatedBy": "t",
            "updatedAt": "2025-01-01T00:00:00Z",
        },
    )
    try:
        yield store
    finally:
        store.read_timeout_s = None


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
    book: GraphStore, tmp_path: Path
) -> None:
    book.read_timeout_s = 0.001  # the hub's store: its requests' limit
    with pytest.raises(GraphTimeout):  # the run's reads do need more than that
        await evaluate_rules(book, config(tmp_path), *WINDOW)
    scheduler = await run_once(book, config(tmp_path))
    assert scheduler.runs == 1 and scheduler.last is not None and scheduler.last.rules == 1


async def test_a_scheduled_run_past_the_job_limit_names_that_setting(
    book: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="c360")
    scheduler = await run_once(book, config(tmp_path, job_timeout_s=0.001))
    assert scheduler.runs == 0
    (failed,) = [r.getMessage() for r in caplog.records if "alert evaluation" in r.getMessage()]
    assert "C360_JOB_TIMEOUT_S" in failed and "C360_REQUEST_TIMEOUT_S" not in failed
