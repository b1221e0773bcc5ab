"""Outbound alert delivery: each alert of a rule POSTed to each of its channels, signed
(``X-C360-Timestamp`` + ``X-C360-Signature: sha256=HMAC-SHA256(secret, "<ts>.<body>")``, the
inbound webhook's scheme; DingTalk robots also get their own ``timestamp``/``sign`` query),
retried with backoff, and recorded: DELIVERED or DEAD (the dead-letter list in GraphQL). Each
request connects to the address its channel check saw (no second lookup: DNS rebinding), the
URL's name kept for the Host header and TLS; redirects are not followed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlparse

import httpx
import orjson

from graph.repositories import alert_rules as repo
from graph.store import GraphStore, Row
from ingest.social.webhook import signed_headers
from resolvers.alert_channels import IpAddress, Refused, Unresolved, address_at_send
from resolvers.analytics import iso

ATTEMPTS = 3
BACKOFF_S = (0.5, 2.0)  # before the 2nd and the 3rd attempt


def message(rule: Row, alert: Row) -> str:
    """One line a person reads in a chat: what, when, how unusual, why."""
    terms = "、".join(alert.get("terms") or [])
    share = alert.get("negativeShare")
    neg = f", negative {share:.0%}" if isinstance(share, float) else ""
    return (
        f"[c360] {rule['brand']} {'+'.join(alert['kinds'])} at {alert['start']}: "
        f"{alert['count']} posts (expected {alert['expected']:.0f}){neg}"
        + (f"; terms: {terms}" if terms else "")
    )


def payload(url: str, rule: Row, alert: Row) -> dict[str, Any]:
    """Slack-style ``{"text"}`` for Slack, DingTalk/WeCom ``{"msgtype": "text", ...}`` for the
    rest; the structured alert rides along for receivers of our own."""
    text = message(rule, alert)
    if "slack.com" in (urlparse(url).hostname or ""):
        return {"text": text, "alert": alert}
    return {"msgtype": "text", "text": {"content": text}, "alert": alert}


def dingtalk_url(url: str, secret: str, now_ms: int) -> str:
    """A DingTalk robot's own signature: ``timestamp`` and ``sign`` in the query."""
    if (urlparse(url).hostname or "") != "oapi.dingtalk.com" or not secret:
        return url
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote(base64.b64encode(digest).decode(), safe="")
    return f"{url}{'&' if '?' in url else '?'}timestamp={now_ms}&sign={sign}"


def pinned(url: str, ip: IpAddress | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL, headers, extensions) of a request to ``url`` that connects to ``ip`` (None: to the
    URL as written): the host replaced by the address (bracketed when IPv6), the name kept in
    the Host header and, for TLS, as ``sni_hostname``: httpcore hands it to the handshake as
    ``server_hostname``, so the certificate is still verified against the name."""
    if ip is None:
        return url, {}, {}
    parsed = httpx.URL(url)
    name = parsed.raw_host.decode("ascii")  # IDNA-encoded, as the client would send it
    # Connection: close - the client pools connections by scheme, address and port, so a
    # connection verified for one name could otherwise carry the next channel's request for
    # another name on the same address, its certificate never checked against that name.
    headers = {"host": parsed.netloc.decode("ascii"), "connection": "close"}
    return str(parsed.copy_with(host=str(ip))), headers, {"sni_hostname": name}


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    secret: str,
    backoff: Sequence[float] = BACKOFF_S,
    *,
    allow: str = "",
) -> tuple[bool, int, str | None]:
    """(delivered, attempts, last error): 2xx is delivered; 4xx other than 408/429 is not
    retried (the receiver refuses it); 5xx, 408, 429, network errors and a name that does not
    resolve are. Before each attempt the channel is checked (:func:`address_at_send`,
    ``allow``: the operator's allow-list) and the request connects to the address checked;
    a refused channel is not sent to (the attempts made before, ``"refused: ..."``).
    Redirects are never followed: one would be a new request to a name not checked."""
    error: str | None = None
    for attempt in range(1, ATTEMPTS + 1):
        now = time.time()
        headers = {"content-type": "application/json"} | signed_headers(secret, body, now)
        try:
            target, host, extensions = pinned(
                dingtalk_url(url, secret, int(now * 1000)), await address_at_send(url, allow)
            )
            response = await client.post(
                target, content=body, headers=headers | host, extensions=extensions,
                follow_redirects=False,
            )  # fmt: skip
            if response.is_success:
                return True, attempt, None
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                return False, attempt, error
        except Refused as exc:
            return False, attempt - 1, f"refused: {exc}"
        except Unresolved as exc:
            error = f"ConnectError: {exc}"  # as the client says of an unreachable receiver
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < ATTEMPTS:
            await asyncio.sleep(backoff[min(attempt - 1, len(backoff) - 1)])
    return False, ATTEMPTS, error


async def deliver(
    store: GraphStore,
    client: httpx.AsyncClient,
    rule: Row,
    alerts: list[Row],
    secret: str,
    backoff: Sequence[float] = BACKOFF_S,
    *,
    allow: str = "",
) -> list[Row]:
    """Every alert to every channel of ``rule``; the delivery records (also stored). A channel
    on an internal address (resolved now; ``allow``: the operator's allow-list) is not sent
    to: a DEAD record says why, its attempts those made before the refusal (0 unless an
    earlier attempt's lookup found no answer or a public one)."""
    records: list[Row] = []
    for alert in alerts:
        for url in rule.get("channels") or []:
            body = orjson.dumps(payload(url, rule, alert))
            ok, attempts, error = await post_signed(client, url, body, secret, backoff, allow=allow)
            records.append(
                {
                    "id": str(uuid.uuid4()),
                    "ruleId": rule["id"],
                    "url": url,
                    "alertStart": alert["start"],
                    "status": "DELIVERED" if ok else "DEAD",
                    "attempts": attempts,
                    "lastError": error,
                    "at": iso(datetime.now(UTC)),
                }
            )
    if records:
        await repo.record_deliveries(store, records)
    return records


__all__ = ["deliver", "dingtalk_url", "message", "payload", "pinned", "post_signed"]
