"""Outbound alert webhooks: signed, retried with backoff, dead letters recorded."""

from __future__ import annotations

import ipaddress
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from graph.repositories import alert_rules as repo
from graph.store import GraphStore
from ingest.social.webhook import signature_ok
from resolvers.alert_channels import internal
from resolvers.alert_delivery import deliver
from tests.live import uvicorn_in_loop
from tests.standins.chat_webhook import ChatWebhook
from tests.standins.dns import Dns
from tests.standins.tls_names import server_cert

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
PUBLIC = "93.184.215.14"  # any public address: the ASGI receivers below never connect to it


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Dns:
    """The receivers' names resolve (to a public address) as they would in production: a
    channel whose name does not resolve is not sent to."""
    return Dns(monkeypatch, {"oapi.dingtalk.com": [PUBLIC], "hooks.slack.com": [PUBLIC]})


def port_for_test() -> int:
    """A free port in 18300-18499 (the range this machine's tests may listen on)."""
    for port in random.sample(range(18300, 18500), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in 18300-18499")


@asynccontextmanager
async def https_receiver(
    host: str, tmp_path: Path
) -> AsyncIterator[tuple[ChatWebhook, int, httpx.AsyncClient]]:
    """A chat receiver over https on 127.0.0.1 with a certificate for ``host`` only, and a
    client trusting that certificate's CA (so a request reaches it only if the TLS handshake
    names ``host``)."""
    receiver, cert, port = ChatWebhook(), server_cert(host, tmp_path), port_for_test()
    async with (
        uvicorn_in_loop(receiver.app(), port, 30.0, ssl_certfile=str(cert.certfile),
                        ssl_keyfile=str(cert.keyfile)),
        httpx.AsyncClient(verify=cert.client, timeout=5.0) as client,
    ):  # fmt: skip
        yield receiver, port, client


async def test_alerts_are_signed_and_shaped_per_receiver(store: GraphStore, dns: Dns) -> None:
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


async def test_retries_then_dead_letters(store: GraphStore, dns: Dns) -> None:
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


@pytest.mark.parametrize("first", [PUBLIC, None], ids=["public-first", "no-answer-first"])
async def test_a_name_answering_inside_after_the_check_is_not_sent_to(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str | None
) -> None:
    # DNS rebinding: the check's lookup answers a public address (or nothing), the next one
    # 127.0.0.1, where a receiver holding a valid certificate for the name listens. The
    # request must connect to what the check saw, never resolve the name again.
    dns = Dns(monkeypatch, {"hooks.rebind.test": [first, "127.0.0.1"]})
    async with https_receiver("hooks.rebind.test", tmp_path) as (receiver, port, client):
        rule = RULE | {"channels": [f"https://hooks.rebind.test:{port}/hook"]}
        (record,) = await deliver(store, client, rule, [ALERT], SECRET, backoff=(0, 0))
    assert receiver.received == []
    # The first attempt went to the public address (or had none), the second one's check
    # saw 127.0.0.1 and refused.
    assert (record["status"], record["attempts"]) == ("DEAD", 1), record
    assert record["lastError"] == (
        "refused: channel hooks.rebind.test resolves to an internal address (127.0.0.1)"
    )
    assert dns.lookups == {"hooks.rebind.test": 2}  # the channel checks', none of the client


async def test_the_request_goes_to_the_checked_address_under_the_name(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One answer, then none: a second lookup (the client's own) would fail the delivery. The
    # certificate is for the name only, so the TLS handshake named it (SNI and verification).
    dns = Dns(monkeypatch, {"hooks.pinned.test": ["127.0.0.1", None]})
    async with https_receiver("hooks.pinned.test", tmp_path) as (receiver, port, client):
        rule = RULE | {"channels": [f"https://hooks.pinned.test:{port}/hook?x=1"]}
        (record,) = await deliver(  # the address allowed on purpose, the name not
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
    assert (record["status"], record["attempts"], record["lastError"]) == ("DELIVERED", 1, None)
    (got,) = receiver.received
    assert got.headers["host"] == f"hooks.pinned.test:{port}"
    assert got.url == f"https://hooks.pinned.test:{port}/hook?x=1"
    assert signature_ok(SECRET, got.body, got.headers["x-c360-timestamp"],
                        got.headers["x-c360-signature"])  # fmt: skip
    assert dns.lookups == {"hooks.pinned.test": 1}


async def test_a_name_that_does_not_resolve_fails_like_an_unreachable_receiver(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    Dns(monkeypatch, {"hooks.gone.test": [None]})
    receiver = ChatWebhook()
    rule = RULE | {"channels": ["https://hooks.gone.test/hook"]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        (record,) = await deliver(store, client, rule, [ALERT], SECRET, backoff=(0, 0))
    assert (record["status"], record["attempts"]) == ("DEAD", 3) and receiver.received == []
    assert record["lastError"].startswith("ConnectError: hooks.gone.test does not resolve")


async def test_redirects_are_not_followed(store: GraphStore, dns: Dns) -> None:
    # A redirect would be a request to a URL never checked (and a name looked up again).
    asked: list[str] = []

    async def hook(request: Request) -> RedirectResponse:
        asked.append(str(request.url))
        return RedirectResponse("https://127.0.0.1/inside", status_code=307)

    app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
    rule = RULE | {"channels": RULE["channels"][1:]}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), follow_redirects=True
    ) as client:
        (record,) = await deliver(store, client, rule, [ALERT], SECRET, backoff=(0, 0))
    assert (record["status"], record["attempts"], record["lastError"]) == ("DEAD", 1, "HTTP 307")
    assert asked == ["https://hooks.slack.com/services/x"]


async def test_a_connection_verified_for_one_name_is_not_reused_for_another(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two names on one address: the client pools connections by address and port, so the
    # second channel's request could ride the first one's connection, its certificate (for
    # the first name only) never checked against the second name.
    Dns(monkeypatch, {"hooks.pinned.test": ["127.0.0.1"], "other.pinned.test": ["127.0.0.1"]})
    async with https_receiver("hooks.pinned.test", tmp_path) as (receiver, port, client):
        names = ("hooks.pinned.test", "other.pinned.test")
        rule = RULE | {"channels": [f"https://{name}:{port}/hook" for name in names]}
        mine, other = await deliver(
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
    assert (mine["status"], other["status"]) == ("DELIVERED", "DEAD")
    assert "CERTIFICATE_VERIFY_FAILED" in other["lastError"], other
    assert [r.headers["host"] for r in receiver.received] == [f"hooks.pinned.test:{port}"]
