"""Dead letters re-sent: the body first sent, signed again, through the same checks and retries;
one re-send at a time (a lease on the record), none of a delivered one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from graph.repositories import alert_rules as repo
from graph.store import GraphStore
from ingest.social.webhook import signature_ok
from resolvers.alert_delivery import RESEND_LEASE, deliver, resend
from resolvers.analytics import iso
from tests.standins.chat_webhook import ChatWebhook
from tests.standins.dns import Dns

SECRET = "s3cret-for-tests"
CHANNEL = "https://oapi.dingtalk.com/robot/send?access_token=t"
RULE = {"id": "cmb", "brand": "招商银行", "channels": [CHANNEL]}
ALERT = {
    "start": "2025-02-19T16:00:00Z",
    "kinds": ["VOLUME"],
    "count": 175,
    "expected": 23.5,
    "negativeShare": 0.74,
    "terms": ["登录不上"],
}
PUBLIC = "93.184.215.14"  # the ASGI receivers never connect to it


def client_of(receiver: ChatWebhook) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app()))


async def dead_letter(store: GraphStore) -> dict[str, object]:
    """A delivery that failed 3 times (the receiver answered 500)."""
    down = ChatWebhook(fail_first=10)
    async with client_of(down) as client:
        (dead,) = await deliver(store, client, RULE, [ALERT], SECRET, backoff=(0, 0))
    assert (dead["status"], dead["attempts"], len(down.received)) == ("DEAD", 3, 3)
    return dead


async def test_a_dead_letter_is_re_sent_as_it_was_sent_and_signed_again(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Dns(monkeypatch, {"oapi.dingtalk.com": [PUBLIC]})
    down = ChatWebhook(fail_first=10)
    async with client_of(down) as client:
        (dead,) = await deliver(store, client, RULE, [ALERT], SECRET, backoff=(0, 0))
    first = down.received[0]
    back = ChatWebhook(fail_first=1)  # one more 500, then up: retried as a first delivery is
    async with client_of(back) as client:
        sent = await resend(store, client, dead, SECRET, "b1", backoff=(0, 0))
    assert sent is not None
    assert (sent["status"], sent["attempts"], sent.get("lastError")) == ("DELIVERED", 5, None)
    assert sent["redeliveredBy"] == "b1" and sent["redeliveredAt"] >= sent["at"]
    got = back.received[-1]
    assert got.body == first.body  # the original alert, byte for byte
    ts = got.headers["x-c360-timestamp"]
    assert signature_ok(SECRET, got.body, ts, got.headers["x-c360-signature"])
    assert "sign=" in got.url  # DingTalk's own signature, made again
    (stored,) = await repo.deliveries(store, "cmb", None)
    assert (stored["status"], stored["attempts"], stored["redeliveries"]) == ("DELIVERED", 5, 1)
    assert stored.get("resendUntil") is None
    # Delivered: a second re-send (a double click) sends nothing.
    async with client_of(back) as client:
        assert await resend(store, client, stored, SECRET, "b1", backoff=(0, 0)) is None
    assert len(back.received) == 2


async def test_two_re_sends_at_once_send_once(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Dns(monkeypatch, {"oapi.dingtalk.com": [PUBLIC]})
    dead = await dead_letter(store)
    receiver = ChatWebhook()
    async with client_of(receiver) as client:
        results = await asyncio.gather(
            *(resend(store, client, dead, SECRET, by, backoff=(0, 0)) for by in ("b1", "b2"))
        )
    assert sorted(r is None for r in results) == [False, True]
    assert len(receiver.received) == 1


async def test_a_re_send_checks_the_channel_again_when_sending(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Public when the alert was first sent, internal now (DNS rebinding): not sent to.
    Dns(monkeypatch, {"oapi.dingtalk.com": [PUBLIC, PUBLIC, PUBLIC, "10.0.0.7"]})
    dead = await dead_letter(store)
    receiver = ChatWebhook()
    async with client_of(receiver) as client:
        sent = await resend(store, client, dead, SECRET, "b1", backoff=(0, 0))
    assert sent is not None and receiver.received == []
    assert (sent["status"], sent["attempts"]) == ("DEAD", 3)
    assert sent["lastError"].startswith("refused: channel oapi.dingtalk.com resolves to an")
    (stored,) = await repo.deliveries(store, "cmb", "DEAD")
    assert stored["redeliveredBy"] == "b1" and stored.get("resendToken") is None


async def test_a_re_send_that_died_is_taken_over_after_its_lease(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Dns(monkeypatch, {"oapi.dingtalk.com": [PUBLIC]})
    running, died = await dead_letter(store), await dead_letter(store)
    now = datetime.now(UTC)
    # Re-sends took both (the real lease): one a minute ago (it may still be sending), one
    # six minutes ago whose process died before recording anything (lease: 5 minutes).
    for row, ago in ((running, 1), (died, 6)):
        taken_at = now - timedelta(minutes=ago)
        until = taken_at + RESEND_LEASE
        assert await repo.take_dead(store, str(row["id"]), "gone", iso(taken_at), iso(until))
    receiver = ChatWebhook()
    async with client_of(receiver) as client:
        assert await resend(store, client, running, SECRET, "b1", backoff=(0, 0)) is None
        assert receiver.received == []
        sent = await resend(store, client, died, SECRET, "b1", backoff=(0, 0))
    assert sent is not None and sent["status"] == "DELIVERED" and len(receiver.received) == 1
