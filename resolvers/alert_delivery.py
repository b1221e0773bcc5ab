"""Outbound alert delivery: each alert of a rule POSTed to each of its channels, signed
(``X-C360-Timestamp`` + ``X-C360-Signature: sha256=HMAC-SHA256(secret, "<ts>.<body>")``, the
inbound webhook's scheme; DingTalk robots also get their own ``timestamp``/``sign`` query),
retried with backoff, and recorded: DELIVERED or DEAD (the dead-letter list in GraphQL)."""

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
from resolvers.alert_channels import refused_at_send
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


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    secret: str,
    backoff: Sequence[float] = BACKOFF_S,
) -> tuple[bool, int, str | None]:
    """(delivered, attempts, last error): 2xx is delivered; 4xx other than 408/429 is not
    retried (the receiver refuses it); 5xx, 408, 429 and network errors are."""
    error: str | None = None
    for attempt in range(1, ATTEMPTS + 1):
        now = time.time()
        headers = {"content-type": "application/json"} | signed_headers(secret, body, now)
        try:
            response = await client.post(
                dingtalk_url(url, secret, int(now * 1000)), content=body, headers=headers
            )
            if response.is_success:
                return True, attempt, None
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                return False, attempt, error
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
    to: a DEAD record of 0 attempts says why."""
    records: list[Row] = []
    for alert in alerts:
        for url in rule.get("channels") or []:
            refused = await refused_at_send(url, allow)
            error: str | None
            if refused is not None:
                ok, attempts, error = False, 0, f"refused: {refused}"
            else:
                body = orjson.dumps(payload(url, rule, alert))
                ok, attempts, error = await post_signed(client, url, body, secret, backoff)
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


__all__ = ["deliver", "dingtalk_url", "message", "payload", "post_signed"]
