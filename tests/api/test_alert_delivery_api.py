"""deliverAlerts over GraphQL: a rule's alerts sent to its channels; an unreachable channel
ends in the dead-letter list (alertDeliveries)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.settings import Settings
from tests.api.conftest import Api


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


async def test_an_unreachable_channel_is_a_dead_letter(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
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
    analyst = as_role("brand_analyst", None, "b1")
    rule = {"brand": "招商银行", "minVolume": 10, "baselineDays": 14,
            "channels": ["https://127.0.0.1:9/robot/send"]}  # fmt: skip
    assert "errors" not in await analyst.gql(PUT, {"rule": rule})
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
