"""Scheduled rule evaluation: alerts raised once per rule and day across runs (and across
processes, claimed in the graph), delivered through the rule's channels without the posts,
published to alertRaised subscribers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.repositories import alert_rules as rules_repo
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.settings import Settings
from ingest.social.webhook import signature_ok
from resolvers import alert_secrets
from resolvers.alert_schedule import AlertScheduler, evaluate_rules
from resolvers.event_bus import ALERTS, EventBus
from tests.standins.chat_webhook import ChatWebhook
from tests.standins.dns import Dns

SECRET = "alert-secret"
BRAND = "招商银行"
CHANNEL = "https://oapi.dingtalk.com/robot/send?access_token=t"


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, alert_webhook_secret=SECRET, **extra)


async def seed(store: GraphStore, spike: date, quiet_days: int = 20) -> None:
    """``quiet_days`` days of 5 posts before ``spike``, then 40 on it (noon in Shanghai)."""
    rows = []
    for d in range(quiet_days + 1):
        day = spike - timedelta(days=quiet_days - d)
        for k in range(40 if day == spike else 5):
            rows.append(
                {
                    "platform": "forum",
                    "postId": f"{d}-{k}",
                    "ingestedAt": "2025-01-01T00:00:00Z",
                    "props": {
                        "text": f"{BRAND} 第{d}天 {k}",
                        "createdAt": f"{day.isoformat()}T04:{k:02d}:00Z",
                        "authorHandle": f"person{k}",
                        "brands": [BRAND],
                        "sentimentLabel": "NEGATIVE",
                    },
                    "author": {"handle": f"person{k}", "props": {}},
                    "brands": [BRAND],
                    "products": [],
                }
            )
    await upsert_posts(store, rows)


async def put_rule(
    store: GraphStore,
    rule_id: str = "cmb",
    channels: list[str] | None = None,
    secret_ref: str | None = None,
) -> None:
    await rules_repo.put_rule(
        store,
        rule_id,
        {
            "brand": BRAND,
            "query": None,
            "threshold": 3.0,
            "baselineDays": 14,
            "minVolume": 10,
            "channels": channels or [],
            "secretRef": secret_ref,
            "updatedBy": "t",
            "updatedAt": "2025-01-01T00:00:00Z",
        },
    )


async def test_each_alert_is_raised_delivered_and_published_once(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The channel's name resolves to a public address (the ASGI receiver never connects).
    Dns(monkeypatch, {"oapi.dingtalk.com": ["93.184.215.14"]})
    spike = date(2025, 3, 21)
    await seed(store, spike)
    await put_rule(store, channels=[CHANNEL])
    bus = EventBus()
    listener = bus.subscribe(ALERTS)
    receiver = ChatWebhook()
    since = datetime(2025, 3, 1, tzinfo=UTC)
    until = datetime(2025, 3, 25, tzinfo=UTC)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        first = await evaluate_rules(
            store, settings(tmp_path), since, until, bus=bus, client=client
        )
        again = await evaluate_rules(
            store, settings(tmp_path), since, until, bus=bus, client=client
        )
    assert first.rules == 1 and [a["start"] for a in first.raised] == ["2025-03-20T16:00:00Z"]
    assert [(d["status"], d["url"]) for d in first.deliveries] == [("DELIVERED", CHANNEL)]
    # The second run finds the same alert but raises, sends and publishes nothing.
    assert again.found == 1 and again.raised == [] and again.deliveries == []
    (sent,) = receiver.received
    assert signature_ok(
        SECRET, sent.body, sent.headers["x-c360-timestamp"], sent.headers["x-c360-signature"]
    )
    alert = sent.json()["alert"]
    assert alert["count"] == 40 and "VOLUME" in alert["kinds"]
    assert "posts" not in alert and b"person" not in sent.body  # no personal data to a chat
    assert listener.queue.qsize() == 1
    (published,) = listener.queue.get_nowait() or []
    assert published["ruleId"] == "cmb" and len(published["posts"]) == 3
    stored = await store.read("MATCH (a:RaisedAlert) RETURN a.key AS key")
    assert stored == [{"key": "cmb|2025-03-20T16:00:00Z"}]


async def test_two_processes_evaluating_at_once_raise_an_alert_once(
    store: GraphStore, tmp_path: Path
) -> None:
    await seed(store, date(2025, 3, 21))
    await put_rule(store)
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=UTC))
    runs = await asyncio.gather(
        *(evaluate_rules(store, settings(tmp_path), *window) for _ in range(3))
    )
    assert sorted(len(r.raised) for r in runs) == [0, 0, 1]


async def test_the_scheduler_evaluates_recent_days_periodically(
    store: GraphStore, tmp_path: Path
) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)  # wholly inside the last 2 days
    await seed(store, yesterday)
    await put_rule(store)
    bus = EventBus()
    listener = bus.subscribe(ALERTS)

    async def get_store() -> GraphStore:
        return store

    config = settings(tmp_path, alert_eval_s=0.05, alert_eval_days=2, timezone="UTC")
    scheduler = AlertScheduler(config, get_store, bus)
    scheduler.start()
    try:
        for _ in range(400):
            if scheduler.runs >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await scheduler.stop()
    assert scheduler.runs >= 3
    assert listener.queue.qsize() == 1  # raised on the first run only
    (alert,) = listener.queue.get_nowait() or []
    assert alert["start"] == f"{yesterday.isoformat()}T00:00:00Z"


async def test_an_ingest_batch_asks_for_its_days(store: GraphStore, tmp_path: Path) -> None:
    await seed(store, date(2025, 3, 21))
    await put_rule(store)
    bus = EventBus()
    listener = bus.subscribe(ALERTS)

    async def get_store() -> GraphStore:
        return store

    scheduler = AlertScheduler(settings(tmp_path, alert_eval_s=0), get_store, bus)
    scheduler.start()
    try:
        # Two batches asked for before the first run: merged into one window.
        scheduler.request(
            datetime(2025, 3, 21, 4, tzinfo=UTC), datetime(2025, 3, 21, 5, tzinfo=UTC)
        )
        scheduler.request(datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC))
        await asyncio.wait_for(scheduler.settled(), 30)
    finally:
        await scheduler.stop()
    assert scheduler.runs == 1 and listener.queue.qsize() == 1


async def test_an_alert_whose_run_stopped_before_delivering_is_delivered_by_a_later_run(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run claims the alert, its channel answers 500 twice, and while the run waits to try
    # a third time the hub shuts down (the scheduler stopped mid-run, as at a restart): the
    # alert claimed, never delivered, no dead letter, the claim never settled.
    Dns(monkeypatch, {"oapi.dingtalk.com": ["93.184.215.14"]})
    await seed(store, date(2025, 3, 21))
    await put_rule(store, channels=[CHANNEL])
    config = settings(tmp_path, alert_eval_s=0)
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=UTC))
    receiver = ChatWebhook(fail_first=2)

    async def get_store() -> GraphStore:
        return store

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        scheduler = AlertScheduler(config, get_store, None, client=client)
        scheduler.start()
        try:
            scheduler.request(*window)
            for _ in range(600):
                if len(receiver.received) == 2:
                    break  # now in the 2 s backoff before the third attempt
                await asyncio.sleep(0.05)
        finally:
            await scheduler.stop()
        assert scheduler.runs == 0 and len(receiver.received) == 2
        assert await rules_repo.deliveries(store, "cmb", None) == []
        (claimed,) = await store.read("MATCH (a:RaisedAlert) RETURN a.settledAt AS settled")
        assert claimed == {"settled": None}

        # Within the claim's lease the stopped run might still be delivering: left alone.
        held = await evaluate_rules(store, config, *window, client=client)
        assert held.found == 1 and held.raised == [] and len(receiver.received) == 2
        # After it, the next run takes the claim over and delivers the alert, once.
        later = await evaluate_rules(store, config, *window, client=client, lease=timedelta(0))
        again = await evaluate_rules(store, config, *window, client=client, lease=timedelta(0))
    assert [a["start"] for a in later.raised] == ["2025-03-20T16:00:00Z"]
    assert [(d["status"], d["url"]) for d in later.deliveries] == [("DELIVERED", CHANNEL)]
    assert again.raised == [] and len(receiver.received) == 3
    assert receiver.received[-1].json()["alert"]["count"] == 40


async def test_each_rule_signs_with_its_own_secret_or_the_shared_one(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Dns(monkeypatch, {"oapi.dingtalk.com": ["93.184.215.14"]})
    monkeypatch.setenv("C360_ALERT_SECRET_CMB", "from-the-environment")
    await seed(store, date(2025, 3, 21))
    await put_rule(store, "by-env", [CHANNEL], "env:C360_ALERT_SECRET_CMB")
    await put_rule(store, "by-file", [CHANNEL], "file:by-file")
    await put_rule(store, "shared", [CHANNEL])
    # Saved before the operator paired env secrets with rules: not paired, so not signed.
    await put_rule(store, "unpaired", [CHANNEL], "env:C360_ALERT_SECRET_CMB")
    generated = alert_secrets.rotate(tmp_path, "by-file")  # the data dir's, as the mutation does
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=UTC))
    receiver = ChatWebhook()
    paired = settings(tmp_path, alert_env_secrets="by-env=CMB")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        run = await evaluate_rules(store, paired, *window, client=client)
    assert sorted(d["ruleId"] for d in run.deliveries if d["status"] == "DELIVERED") == [
        "by-env", "by-file", "shared",
    ]  # fmt: skip
    secrets = {"by-env": "from-the-environment", "by-file": generated, "shared": SECRET}
    assert len(receiver.received) == 3
    for got in receiver.received:
        rule = got.json()["alert"]["ruleId"]
        ts, sig = got.headers["x-c360-timestamp"], got.headers["x-c360-signature"]
        assert [name for name, key in secrets.items() if signature_ok(key, got.body, ts, sig)] == [
            rule
        ]


async def test_a_garbled_rule_is_left_out_and_the_others_evaluated(
    store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # QA probe: one rule with a garbled minVolume (written around the API) stopped every
    # rule's evaluation with a TypeError.
    await seed(store, date(2025, 3, 21))
    await put_rule(store, "a-garbled")  # sorts before cmb: evaluated first
    await put_rule(store, "cmb")
    await store.write("MATCH (r:AlertRule {id: 'a-garbled'}) SET r.minVolume = ['x']")
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 25, tzinfo=UTC))
    with caplog.at_level("WARNING", logger="resolvers.alert_rules"):
        run = await evaluate_rules(store, settings(tmp_path), *window)
    assert run.rules == 1
    assert [a["ruleId"] for a in run.raised] == ["cmb"]
    (logged,) = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert "'a-garbled'" in logged and "minVolume" in logged
