"""The graph watcher (resolvers/graph_watch.py) over a real FalkorDB: posts another process
stores, through a second connection to the same graph, reach this process's subscribers once
each, in order, however many share a second (QA: after a bulk import of 6,000 posts a live
subscription got 1,987 and then nothing more)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graph.connect import open_store
from graph.embedded import EmbeddedFalkorDB
from graph.repositories.social import upsert_posts
from graph.repositories.social_events import claim_alerts
from graph.store import GraphStore, Row
from resolvers.alert_schedule import claim
from resolvers.event_bus import ALERTS, MENTIONS, EventBus, Subscription
from resolvers.graph_watch import LAG_S, LIMIT, GraphWatcher
from tests.post_rows import post_row

BURST = LIMIT + LIMIT // 4  # more than a page of posts stamped within one second


@pytest.fixture
async def other_process(store: GraphStore, session_data_dir: Path) -> AsyncIterator[GraphStore]:
    """Another client of the test graph, as `c360 ingest` is: its writes reach this process
    only through the graph."""
    url = os.environ.get("C360_TEST_GRAPH_URL") or (
        f"unix://{EmbeddedFalkorDB(session_data_dir).socket_path}"
    )
    other = await open_store(session_data_dir, url, upgrade=False)
    yield other
    await other.close()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(ids: range, ingested_at: str, prefix: str = "b") -> list[Row]:
    return [
        post_row(f"{prefix}{n:05d}", f"八号 {n}", created_at="2026-03-01T00:00:00Z",
                 ingested_at=ingested_at)
        for n in ids
    ]  # fmt: skip


def drain(subscription: Subscription) -> list[str]:
    """The post ids the subscriber was handed so far, in order."""
    out: list[str] = []
    while not subscription.queue.empty():
        batch = subscription.queue.get_nowait()
        assert batch is not None, "the subscriber was dropped"
        out += [str(p["postId"]) for p in batch]
    return out


async def watching(store: GraphStore) -> tuple[GraphWatcher, Subscription, list[Any]]:
    """A watcher with one mentions subscriber that has looked once (its start), and the posts
    it hands to the alert evaluation."""
    bus = EventBus()
    subscription = bus.subscribe(MENTIONS)
    evaluated: list[Any] = []
    watcher = watcher_of(bus, store, on_posts=evaluated.extend)
    await watcher.look()
    return watcher, subscription, evaluated


def watcher_of(bus: EventBus, store: GraphStore, **options: Any) -> GraphWatcher:
    """A watcher of ``store`` for ``bus``, looking only when told to."""

    async def get_store() -> GraphStore:
        return store

    return GraphWatcher(bus, get_store, poll_s=0, **options)


async def test_a_burst_of_many_pages_in_one_second_reaches_the_subscriber_once_each(
    store: GraphStore, other_process: GraphStore
) -> None:
    watcher, subscription, evaluated = await watching(store)
    now = datetime.now(UTC)
    second = now + timedelta(seconds=1)
    burst = [*rows(range(BURST - 30), stamp(now)), *rows(range(BURST - 30, BURST), stamp(second))]
    for start in range(0, len(burst), 500):  # batches, as an import writes them
        await upsert_posts(other_process, burst[start : start + 500])

    got: list[str] = []
    for _ in range(3):
        await watcher.look()
        got += drain(subscription)
    assert got == [r["postId"] for r in burst]  # each once, in the order they were stamped
    assert len(evaluated) == len(burst)

    later = rows(range(3), stamp(now + timedelta(seconds=2)), prefix="later")
    await upsert_posts(other_process, later)
    await watcher.look()
    assert drain(subscription) == ["later00000", "later00001", "later00002"]
    await watcher.look()
    assert drain(subscription) == []  # nothing twice


async def test_a_post_stamped_before_the_cursor_that_commits_later_arrives_once(
    store: GraphStore, other_process: GraphStore
) -> None:
    """A batch is stamped before it is scored and written: one stamped earlier may commit
    after a later one was read. The look back over ``LAG_S`` finds it, past more than a page
    of posts already delivered."""
    watcher, subscription, _ = await watching(store)
    now = datetime.now(UTC)
    await upsert_posts(other_process, rows(range(LIMIT + 20), stamp(now)))
    await watcher.look()
    assert len(drain(subscription)) == LIMIT + 20

    late_at = stamp(now - timedelta(seconds=LAG_S / 2))
    await upsert_posts(other_process, rows(range(2), late_at, prefix="late"))
    await watcher.look()
    assert drain(subscription) == ["late00000", "late00001"]
    await watcher.look()
    assert drain(subscription) == []


async def test_posts_stored_before_the_subscription_are_not_pushed_as_new(
    store: GraphStore, other_process: GraphStore
) -> None:
    """QA, session 26: posts stored in the ``LAG_S`` seconds before a console opened came
    back on its first look as new (the look back read them), counted twice by the page. What
    was stored before the start is not news; a post stamped before it that commits later is."""
    before = datetime.now(UTC) - timedelta(seconds=LAG_S / 3)
    await upsert_posts(other_process, rows(range(5), stamp(before), prefix="old"))
    watcher, subscription, evaluated = await watching(store)
    await watcher.look()
    assert drain(subscription) == [] and evaluated == []

    await upsert_posts(other_process, rows(range(2), stamp(datetime.now(UTC)), prefix="new"))
    await upsert_posts(other_process, rows(range(1), stamp(before), prefix="late"))
    await watcher.look()
    assert sorted(drain(subscription)) == ["late00000", "new00000", "new00001"]


async def test_a_new_stretch_of_listening_starts_at_its_own_subscriber(
    store: GraphStore, other_process: GraphStore
) -> None:
    """Everyone left and someone came between two looks: the newcomer is not handed the posts
    stored while nobody listened (they are in its search)."""
    watcher, first, _ = await watching(store)
    first.close()
    while_away = datetime.now(UTC) - timedelta(seconds=2)  # before the newcomer's second
    await upsert_posts(other_process, rows(range(3), stamp(while_away), prefix="gap"))
    second = watcher.bus.subscribe(MENTIONS)
    await watcher.look()
    assert drain(second) == []
    await upsert_posts(other_process, rows(range(1), stamp(datetime.now(UTC)), prefix="next"))
    await watcher.look()
    assert drain(second) == ["next00000"]


async def test_alerts_raised_before_the_alert_subscription_are_not_pushed(
    store: GraphStore, other_process: GraphStore
) -> None:
    """As posts: an alert another process raised in the ``LAG_S`` seconds before someone
    subscribed to alerts is not news to them; one raised after is."""

    async def raise_alert(key: str, at: datetime) -> None:
        row = {"key": key, "ruleId": "r1", "start": stamp(at), "raisedAt": stamp(at), "posts": []}
        await claim_alerts(other_process, [claim(row)], "run", stamp(at), stamp(at))

    await raise_alert("before", datetime.now(UTC) - timedelta(seconds=LAG_S / 3))
    bus = EventBus()
    subscription = bus.subscribe(ALERTS)
    watcher = watcher_of(bus, store)
    await watcher.look()
    await raise_alert("after", datetime.now(UTC) + timedelta(seconds=1))
    await watcher.look()
    batch = subscription.queue.get_nowait()
    assert batch is not None and [a["key"] for a in batch] == ["after"]
    assert subscription.queue.empty()


async def test_mention_listeners_leaving_while_alert_listeners_stay_keep_the_cursor(
    store: GraphStore, other_process: GraphStore
) -> None:
    """Review, session 26: when the mention listeners left, the posts' cursor went back to the
    alert listener's (later) start and every post since was read again (handed to the alert
    evaluation again once the seen-set of 50 000 keys had let them go)."""
    watcher, mentions, evaluated = await watching(store)
    started = watcher.started
    await asyncio.sleep(1.1)  # the alert listener's stretch starts a second later
    alerts = watcher.bus.subscribe(ALERTS)
    await upsert_posts(other_process, rows(range(2), stamp(datetime.now(UTC)), prefix="seen"))
    await watcher.look()
    assert drain(mentions) == ["seen00000", "seen00001"]
    handed = len(evaluated)
    mentions.close()
    await watcher.look()
    assert watcher.started == started  # the same stretch of listening: the cursor goes on
    assert len(evaluated) == handed
    alerts.close()
