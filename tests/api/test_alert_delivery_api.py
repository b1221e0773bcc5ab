"""deliverAlerts over GraphQL: a rule's alerts sent to its channels; an unreachable channel
ends in the dead-letter list (alertDeliveries), from which redeliverAlert re-sends one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graph.repositories import alert_rules as repo
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from resolvers.analytics import iso
from tests.api.conftest import Api, codes


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    # 127.0.0.1 on the allow-list: an internal channel named on purpose (refused otherwise).
    return Settings(
        data_dir=data_dir,
        introspection=False,
        alert_webhook_secret="s3cret",
        alert_channel_allow="127.0.0.1",
    )


PUT = """mutation($rule: AlertRuleInput!) { putAlertRule(id: "cmb", rule: $rule) { id } }"""
DELIVER = """mutation {
  deliverAlerts(rule: "cmb", from: "2025-03-15T00:00:00Z", to: "2025-03-16T00:00:00Z",
                timezone: "UTC") { ruleId url alertStart status attempts lastError }
}"""
DEAD = """{ alertDeliveries(rule: "cmb", status: DEAD) { alertStart status attempts } }"""
REDELIVER = """mutation($id: ID!) { redeliverAlert(deliveryId: $id) {
  id status attempts lastError redeliveredAt redeliveredBy } }"""


async def seed_dead_letter(store: GraphStore, analyst: Api) -> None:
    start = date(2025, 3, 1)
    rows = []
    for d in range(15):
        for k in range(50 if d == 14 else 5):
            rows.append(
                {
                    "platform": "weibo",
                    "postId": f"{d}-{k}",
                    "ingestedAt": "2025-03-20T00:00:00Z",
                    "props": {"text": "招商银行", "brands": ["招商银行"],
                              "createdAt": f"{start + timedelta(days=d)}T03:00:00Z"},
                    "author": None,
                    "brands": ["招商银行"],
                    "products": [],
                }
            )  # fmt: skip
    await upsert_posts(store, rows)
    rule = {"brand": "招商银行", "minVolume": 10, "baselineDays": 14,
            "channels": ["https://127.0.0.1:9/robot/send"]}  # fmt: skip
    assert "errors" not in await analyst.gql(PUT, {"rule": rule})


async def test_an_unreachable_channel_is_a_dead_letter(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    analyst = as_role("brand_analyst", None, "b1")
    await seed_dead_letter(store, analyst)
    body = await analyst.gql(DELIVER)
    assert "errors" not in body, body
    (sent,) = body["data"]["deliverAlerts"]
    assert (sent["alertStart"], sent["status"], sent["attempts"]) == (
        "2025-03-15T00:00:00Z", "DEAD", 3,
    )  # fmt: skip
    assert sent["lastError"].startswith("ConnectError")
    dead = (await analyst.gql(DEAD))["data"]["alertDeliveries"]
    assert dead == [{"alertStart": "2025-03-15T00:00:00Z", "status": "DEAD", "attempts": 3}]
    officer = as_role("privacy_officer", "compliance", "po1")
    assert (await officer.gql(DELIVER))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def error(body: dict[str, Any]) -> tuple[str, str]:
    (err,) = body["errors"]
    return err["extensions"]["code"], err["message"]


async def test_a_dead_letter_is_re_sent_by_the_rule_s_writers_once_at_a_time(
    store: GraphStore, as_role: Callable[..., Api], data_dir: Path
) -> None:
    analyst = as_role("brand_analyst", None, "b1")
    await seed_dead_letter(store, analyst)
    (sent,) = (await analyst.gql(DELIVER))["data"]["deliverAlerts"]
    dead_id = (await repo.deliveries(store, "cmb", "DEAD"))[0]["id"]

    # Officers read the dead letters but do not act for the rule; unknown ids are NOT_FOUND.
    officer = as_role("privacy_officer", "compliance", "po1")
    assert codes(await officer.gql(REDELIVER, {"id": dead_id})) == ["FORBIDDEN"]
    assert codes(await analyst.gql(REDELIVER, {"id": "nope"})) == ["NOT_FOUND"]

    # Sent again through the same path: the channel is still down, so 3 more attempts.
    again = (await analyst.gql(REDELIVER, {"id": dead_id}))["data"]["redeliverAlert"]
    assert (again["status"], again["attempts"], again["redeliveredBy"]) == ("DEAD", 6, "b1")
    assert again["lastError"].startswith("ConnectError") and again["redeliveredAt"]
    listed = (await analyst.gql(DEAD))["data"]["alertDeliveries"]
    assert listed == [{"alertStart": "2025-03-15T00:00:00Z", "status": "DEAD", "attempts": 6}]
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    (intent,) = [r for r in records if "redeliver" in r["details"]]
    assert intent["details"] | {"redeliver": f"AlertDelivery:{dead_id}", "rule": "cmb",
                                 "url": "127.0.0.1"} == intent["details"]  # fmt: skip
    assert intent["outcome"] == "intent" and intent["subject"] == "b1"

    # A double click: one re-send, the other refused while it runs.
    both = await asyncio.gather(*(analyst.gql(REDELIVER, {"id": dead_id}) for _ in range(2)))
    assert sorted(codes(b) for b in both) == [[], ["BAD_USER_INPUT"]]
    refused = next(b for b in both if b.get("errors"))
    assert "being re-sent" in error(refused)[1] and "nothing was sent" in error(refused)[1]
    assert (await repo.delivery(store, dead_id) or {})["attempts"] == 9

    # One held by a re-send elsewhere (the real lease) is refused, saying until when.
    now = datetime.now(UTC)
    assert await repo.take_dead(store, dead_id, "other", iso(now), iso(now + timedelta(minutes=5)))
    code, message = error(await analyst.gql(REDELIVER, {"id": dead_id}))
    assert code == "BAD_USER_INPUT" and "being re-sent (until" in message

    # Delivered ones are not sent again.
    await repo.record_deliveries(
        store,
        [
            sent
            | {"id": "ok1", "status": "DELIVERED", "ruleId": "cmb", "at": iso(now), "body": "{}"}
        ],
    )
    code, message = error(await analyst.gql(REDELIVER, {"id": "ok1"}))
    assert code == "BAD_USER_INPUT" and "delivered already" in message
