"""Outbound alert webhooks: signed, retried with backoff, dead letters recorded."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
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
from resolvers.alert_channels import Refused, addresses_at_send, internal
from resolvers.alert_delivery import deliver
from tests.api.test_alert_rules import INSIDE_BY_TABLE
from tests.live import free_port, uvicorn_in_loop
from tests.standins.chat_webhook import ChatWebhook
from tests.standins.connect_proxy import ConnectProxy
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


@asynccontextmanager
async def https_receiver(
    host: str, tmp_path: Path, receiver: ChatWebhook | None = None, timeout: float = 5.0
) -> AsyncIterator[tuple[ChatWebhook, int, httpx.AsyncClient]]:
    """A chat receiver over https on 127.0.0.1 with a certificate for ``host`` only, and a
    client trusting that certificate's CA (so a request reaches it only if the TLS handshake
    names ``host``; made inside, so it reads the proxy environment a test set)."""
    receiver, cert, port = receiver or ChatWebhook(), server_cert(host, tmp_path), free_port()
    async with (
        uvicorn_in_loop(receiver.app(), port, 30.0, ssl_certfile=str(cert.certfile),
                        ssl_keyfile=str(cert.keyfile)),
        httpx.AsyncClient(verify=cert.client, timeout=timeout) as client,
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


async def test_an_address_carrying_a_public_ipv4_is_dialled_as_the_resolver_gave_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS64 on an IPv6-only host answers an IPv4-only receiver as NAT64: judged by the IPv4
    # address it carries, dialled as itself (only the gateway reaches that IPv4 address; the
    # hub dialled 8.8.8.8 and every delivery there died, review of session 23). An
    # IPv4-mapped answer is its IPv4 address either way.
    Dns(monkeypatch, {"nat64.example.com": [("64:ff9b::808:808", "::ffff:93.184.215.14")]})
    dialled = await addresses_at_send("https://nat64.example.com/hook")
    assert dialled == (
        ipaddress.IPv6Address("64:ff9b::808:808"),
        ipaddress.IPv4Address("93.184.215.14"),
    )
    Dns(monkeypatch, {"inside.example.com": [("64:ff9b::808:808", "64:ff9b::a00:8")]})
    with pytest.raises(Refused, match=r"internal address \(10\.0\.0\.8\)"):
        await addresses_at_send("https://inside.example.com/hook")


async def test_a_name_resolving_to_a_deprecated_or_translated_internal_address_is_not_sent_to(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check at sending is the save-time one (QA, session 23): each address the save
    # refuses is refused among a name's answers too, and nothing is sent.
    names = {f"inside{i}.example.com": [a] for i, a in enumerate(INSIDE_BY_TABLE)}
    Dns(monkeypatch, names)
    receiver = ChatWebhook()
    inside = RULE | {"channels": [f"https://{name}/hook" for name in names]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app())) as client:
        records = await deliver(store, client, inside, [ALERT], SECRET, backoff=(0, 0))
    assert [(r["status"], r["attempts"]) for r in records] == [("DEAD", 0)] * len(names)
    for record, address in zip(records, INSIDE_BY_TABLE, strict=True):
        assert record["lastError"].startswith("refused: channel"), (address, record)
        assert "resolves to an internal address" in record["lastError"], (address, record)
    assert receiver.received == []


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


class Took(list[str]):
    """The connections a silent listener took, and how long each was held open before the
    client gave up on it."""

    held_s: list[float]


@asynccontextmanager
async def silent(host: str, port: int) -> AsyncIterator[Took]:
    """A listener on ``host``:``port`` that takes connections and never answers (a receiver
    hung in the TLS handshake); yields the connections it took."""
    took = Took()
    took.held_s = []
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        took.append(str(writer.get_extra_info("peername")))
        held.append(writer)
        began = time.monotonic()
        await reader.read()  # until the client gives up
        took.held_s.append(time.monotonic() - began)

    server = await asyncio.start_server(hold, host, port)
    try:
        yield took
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def test_the_next_checked_address_is_tried_when_one_refuses(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name answers two addresses; nothing listens on the first (refused), the receiver on
    # the second. One lookup (the check's), then none: the client never resolves the name.
    dns = Dns(monkeypatch, {"hooks.pinned.test": [("127.0.0.2", "127.0.0.1"), None],
                            "down.pinned.test": [("127.0.0.2", "127.0.0.3")]})  # fmt: skip
    async with https_receiver("hooks.pinned.test", tmp_path) as (receiver, port, client):
        rule = RULE | {"channels": [f"https://{name}.pinned.test:{port}/hook"
                                    for name in ("hooks", "down")]}  # fmt: skip
        up, down = await deliver(
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
    assert (up["status"], up["attempts"], up["lastError"], up["via"]) == (
        "DELIVERED",
        1,
        None,
        "127.0.0.1",
    ), up
    assert [r.headers["host"] for r in receiver.received] == [f"hooks.pinned.test:{port}"]
    # Every attempt tried every address, and says so.
    assert (down["status"], down["attempts"], down["via"]) == ("DEAD", 3, None), down
    assert down["lastError"].startswith(
        "ConnectError: no address of down.pinned.test answered (127.0.0.2: ConnectError: "
    ), down
    assert "; 127.0.0.3: ConnectError: " in down["lastError"], down
    assert dns.lookups == {"hooks.pinned.test": 1, "down.pinned.test": 3}
    stored = {d["url"]: d for d in await repo.deliveries(store, "cmb", None)}
    assert stored[rule["channels"][0]]["via"] == "127.0.0.1"


async def test_an_address_that_does_not_connect_in_its_share_of_the_time_is_left(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first address takes the connection and never answers the TLS handshake. The
    # attempt's connect time (the client's, 4 s) is shared: the first address gets half and
    # the receiver on the second address the rest.
    Dns(monkeypatch, {"hooks.pinned.test": [("127.0.0.3", "127.0.0.1")]})
    async with (
        https_receiver("hooks.pinned.test", tmp_path, timeout=4.0) as (receiver, port, client),
        silent("127.0.0.3", port) as took,
    ):
        rule = RULE | {"channels": [f"https://hooks.pinned.test:{port}/hook"]}
        began = time.monotonic()
        (record,) = await deliver(
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
        spent = time.monotonic() - began
    # Not all of the attempt's time on the hung address: the receiver was reached in the same
    # attempt (a hung address holding the whole 4 s would have failed it), by its second
    # address, the hung one taken once.
    outcome = (record["status"], record["attempts"], record["via"])
    assert outcome == ("DELIVERED", 1, "127.0.0.1"), record["lastError"]
    assert len(took) == 1 and len(receiver.received) == 1
    # Nor less than its share (half of the 4 s), measured where it hung: lower bounds of a
    # wait, which a loaded machine can only lengthen (upper time bounds are what the
    # structural checks above stand for).
    assert took.held_s[0] > 1.8, took.held_s
    assert spent > 1.8, spent


async def test_hung_addresses_share_the_attempt_s_connect_time(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three addresses hang: each attempt still ends within the client's connect timeout (1 s),
    # three attempts in about 3 s, not 1 s per address (9 s).
    hung = ("127.0.0.3", "127.0.0.4", "127.0.0.5")
    Dns(monkeypatch, {"hooks.hung.test": [hung]})
    port = free_port()
    async with (
        silent(hung[0], port) as first, silent(hung[1], port), silent(hung[2], port),
        httpx.AsyncClient(timeout=1.0) as client,
    ):  # fmt: skip
        rule = RULE | {"channels": [f"https://hooks.hung.test:{port}/hook"]}
        began = time.monotonic()
        (record,) = await deliver(
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
        spent = time.monotonic() - began
    assert (record["status"], record["attempts"]) == ("DEAD", 3)
    assert record["lastError"].count("ConnectTimeout") == 3, record["lastError"]
    assert len(first) == 3  # every attempt began with the first address again
    assert 2.5 < spent < 5.0, spent


@pytest.mark.parametrize("answer", ["certificate", "HTTP 500"])
async def test_an_answer_from_an_address_ends_the_attempt(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    # A TLS failure (the receiver's certificate is not for the name) or an HTTP error status
    # is an answer, not an address being down: the next address is not tried.
    name = "other.pinned.test" if answer == "certificate" else "hooks.pinned.test"
    Dns(monkeypatch, {name: [("127.0.0.1", "127.0.0.2")]})
    webhook = ChatWebhook(fail_first=10)
    async with (
        https_receiver("hooks.pinned.test", tmp_path, webhook) as (receiver, port, client),
        silent("127.0.0.2", port) as took,
    ):
        rule = RULE | {"channels": [f"https://{name}:{port}/hook"]}
        (record,) = await deliver(
            store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
        )
    assert record["status"] == "DEAD" and took == []
    if answer == "certificate":
        assert "CERTIFICATE_VERIFY_FAILED" in record["lastError"], record
        assert receiver.received == [] and record["via"] is None
    else:
        assert (record["lastError"], record["via"]) == ("HTTP 500", "127.0.0.1")
        assert len(receiver.received) == 3


def proxy_environment(monkeypatch: pytest.MonkeyPatch, proxy: str, no_proxy: str = "") -> None:
    """HTTPS_PROXY (and NO_PROXY) as an operator sets them; no other proxy setting left."""
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


async def test_through_a_proxy_the_request_goes_by_name_after_the_check(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hub's check sees a public address; the proxy resolves the name itself (its table
    # sends it to the receiver on 127.0.0.1). The tunnel is to the name and TLS names it, so
    # the certificate for the name is accepted. A name resolving inside is refused before.
    dns = Dns(monkeypatch, {"hooks.proxied.test": [PUBLIC], "hooks.inside.test": ["10.0.0.5"]})
    proxy = ConnectProxy({"hooks.proxied.test": "127.0.0.1", "hooks.inside.test": "127.0.0.1"})
    async with proxy.serving(free_port()) as proxy_url:
        proxy_environment(monkeypatch, proxy_url)
        async with https_receiver("hooks.proxied.test", tmp_path) as (receiver, port, client):
            rule = RULE | {"channels": [f"https://hooks.{name}.test:{port}/hook?x=1"
                                        for name in ("proxied", "inside")]}  # fmt: skip
            sent, inside = await deliver(store, client, rule, [ALERT], SECRET, backoff=(0, 0))
    assert (sent["status"], sent["attempts"], sent["lastError"], sent["via"]) == (
        "DELIVERED",
        1,
        None,
        "proxy",
    ), sent
    assert proxy.asked == [f"hooks.proxied.test:{port}"]
    (got,) = receiver.received
    assert got.url == f"https://hooks.proxied.test:{port}/hook?x=1"
    assert signature_ok(SECRET, got.body, got.headers["x-c360-timestamp"],
                        got.headers["x-c360-signature"])  # fmt: skip
    assert (inside["status"], inside["attempts"]) == ("DEAD", 0)
    assert inside["lastError"] == (
        "refused: channel hooks.inside.test resolves to an internal address (10.0.0.5)"
    )
    assert dns.lookups == {"hooks.proxied.test": 1, "hooks.inside.test": 1}


async def test_a_name_on_no_proxy_goes_direct_to_its_checked_address(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NO_PROXY names the name, not its address: the request to the checked address must not
    # be tunnelled through the proxy (whose handshake would name the address).
    dns = Dns(monkeypatch, {"hooks.pinned.test": ["127.0.0.1", None]})
    proxy = ConnectProxy({"hooks.pinned.test": "127.0.0.1"})
    async with proxy.serving(free_port()) as proxy_url:
        proxy_environment(monkeypatch, proxy_url, no_proxy="example.org,hooks.pinned.test")
        async with https_receiver("hooks.pinned.test", tmp_path) as (receiver, port, client):
            rule = RULE | {"channels": [f"https://hooks.pinned.test:{port}/hook"]}
            (record,) = await deliver(
                store, client, rule, [ALERT], SECRET, backoff=(0, 0), allow="127.0.0.0/8"
            )
    assert (record["status"], record["attempts"], record["via"]) == ("DELIVERED", 1, "127.0.0.1")
    assert proxy.asked == [] and len(receiver.received) == 1
    assert dns.lookups == {"hooks.pinned.test": 1}
