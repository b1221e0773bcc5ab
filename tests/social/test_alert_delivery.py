"""Outbound alert webhooks: signed, retried with backoff, dead letters recorded."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from graph.repositories import alert_rules as repo
from graph.store import GraphStore
from ingest.social.webhook import signature_ok
from resolvers.alert_channels import internal
from resolvers.alert_delivery import deliver
from tests.standins.chat_webhook import ChatWebhook

SECRET = "s3cret-for-tests"
RULE = {
    "id": "cmb",
    "brand": "招商银行",
    "channels": [
        "https://oapi.dingtalk.com/robot/send?access_token=t",
        "https://hooks.slack.com/services/x",
    ],
}
ALERT = {
    "start": "2025-02-19T16:00:00Z",
    "kinds": ["VOLUME", "NEGATIVE_SHARE"],
    "count": 175,
    "expected": 23.5,
    "negativeShare": 0.74,
    "terms": ["登录不上", "转账失败"],
}


async def test_alerts_are_signed_and_shaped_per_receiver(store: GraphStore) -> None:
    receiver = ChatWebhook()
    transport = httpx.ASGITransport(app=receiver.app())
    async with httpx.AsyncClient(transport=transport) as client:
        records = await deliver(store, client, RULE, [ALERT], SECRET, backoff=(0, 0))
    assert [(r["status"], r["attempts"]) for r in records] == [("DELIVERED", 1)] * 2
    ding, slack = receiver.received
    for got in (ding, slack):
        ts, sig = got.headers["x-c360-timestamp"], got.headers["x-c360-signature"]
        assert signature_ok(SECRET, got.body, ts, sig)
        assert not signature_ok("other", got.body, ts, sig)
    assert "timestamp=" in ding.url and "sign=" in ding.url  # DingTalk's own signature too
    assert ding.json()["msgtype"] == "text"
    assert "招商银行 VOLUME+NEGATIVE_SHARE" in ding.json()["text"]["content"]
    assert "登录不上" in ding.json()["text"]["content"]
    assert isinstance(slack.json()["text"], str) and slack.json()["alert"]["count"] == 175


async def test_retries_then_dead_letters(store: GraphStore) -> None:
    flaky = ChatWebhook(fail_first=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=flaky.app())) as client:
        (ok,) = await deliver(store, client, RULE | {"channels": RULE["channels"][:1]}, [ALERT],
                              SECRET, backoff=(0, 0))  # fmt: skip
    assert (ok["status"], ok["attempts"]) == ("DELIVERED", 3)
    refused = ChatWebhook(status=403)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=refused.app())) as client:
        (dead,) = await deliver(store, client, RULE | {"channels": RULE["channels"][:1]}, [ALERT],
                                SECRET, backoff=(0, 0))  # fmt: skip
    assert (dead["status"], dead["attempts"], dead["lastError"]) == ("DEAD", 1, "HTTP 403")
    down = ChatWebhook(fail_first=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down.app())) as client:
        (gone,) = await deliver(store, client, RULE | {"channels": RULE["channels"][:1]}, [ALERT],
                                SECRET, backoff=(0, 0))  # fmt: skip
    assert (gone["status"], gone["attempts"]) == ("DEAD", 3) and len(down.received) == 3
    stored = await repo.deliveries(store, "cmb", "DEAD")
    assert sorted(d["lastError"] for d in stored) == ["HTTP 403", "HTTP 500"]


async def test_a_channel_resolving_to_an_internal_address_is_not_sent_to(
    store: GraphStore,
) -> None:
    # A rule stored before the save-time check, or a name that resolves inside: the name is
    # resolved when sending (this machine's own name resolves to one of its addresses).
    host = socket.gethostname()
    addresses = {i[4][0] for i in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    if not any(internal(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
        pytest.skip(f"{host} resolves to public addresses only here")
    receiver = ChatWebhook()
    inside = RULE | {"channels": [f"https://{host}/hook", "https://169.254.169.254/latest"]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        records = await deliver(store, client, inside, [ALERT], SECRET, backoff=(0, 0))
        assert [(r["status"], r["attempts"]) for r in records] == [("DEAD", 0)] * 2
        assert all(r["lastError"].startswith("refused: channel") for r in records)
        assert receiver.received == []
        allowed = await deliver(
            store, client, inside | {"channels": inside["channels"][:1]}, [ALERT], SECRET,
            backoff=(0, 0), allow=host,
        )  # fmt: skip
    assert [r["status"] for r in allowed] == ["DELIVERED"]
