"""Outbound alert delivery: each alert of a rule POSTed to each of its channels, signed
(``X-C360-Timestamp`` + ``X-C360-Signature: sha256=HMAC-SHA256(secret, "<ts>.<body>")``, the
inbound webhook's scheme; DingTalk robots also get their own ``timestamp``/``sign`` query),
retried with backoff, and recorded: DELIVERED or DEAD (the dead-letter list in GraphQL). Each
request connects to the addresses its channel check saw, in order while they cannot be
connected to (no second lookup: DNS rebinding), the URL's name kept for the Host header and
TLS, or through the client's proxy by name (:mod:`resolvers.alert_transport`); redirects are
not followed. Each record keeps the body it sent, so a dead letter is re-sent as it was
(:func:`resend`, the checks and retries of a first delivery)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, urlparse

import httpx
import orjson

from graph.repositories import alert_rules as repo
from graph.store import GraphStore, Row
from ingest.social.webhook import signed_headers
from resolvers.alert_channels import Refused, Unresolved, addresses_at_send
from resolvers.alert_transport import pinned, post
from resolvers.analytics import iso

ATTEMPTS = 3
BACKOFF_S = (0.5, 2.0)  # before the 2nd and the 3rd attempt
# A re-send holds its dead letter this long: well over one delivery's worst case (3 attempts of
# a 10 s connect and a 10 s read, 2.5 s backoff), so a second one starts only after a first
# that died with its process.
RESEND_LEASE = timedelta(minutes=5)


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


class Outcome(NamedTuple):
    delivered: bool
    attempts: int
    error: str | None  # the last attempt's
    via: str | None  # who answered the last attempt: a checked address, "proxy", or None


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    secret: str,
    backoff: Sequence[float] = BACKOFF_S,
    *,
    allow: str = "",
) -> Outcome:
    """2xx is delivered; 4xx other than 408/429 is not retried (the receiver refuses it); 5xx,
    408, 429, network errors and a name that does not resolve are. Before each attempt the
    channel is checked (:func:`addresses_at_send`, ``allow``: the operator's allow-list) and
    the request connects to the addresses checked, the next when one cannot be connected to,
    or goes through the client's proxy by name (:mod:`resolvers.alert_transport`); a refused
    channel is not sent to (the attempts made before, ``"refused: ..."``). Redirects are never
    followed: one would be a new request to a name not checked."""
    error: str | None = None
    via: str | None = None
    for attempt in range(1, ATTEMPTS + 1):
        now = time.time()
        headers = {"content-type": "application/json"} | signed_headers(secret, body, now)
        via = None
        try:
            addresses = await addresses_at_send(url, allow)
            sent = await post(
                client, dingtalk_url(url, secret, int(now * 1000)), addresses, body, headers
            )
            response, via = sent.response, sent.via
            if response.is_success:
                return Outcome(True, attempt, None, via)
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                return Outcome(False, attempt, error, via)
        except Refused as exc:
            return Outcome(False, attempt - 1, f"refused: {exc}", None)
        except Unresolved as exc:
            error = f"ConnectError: {exc}"  # as the client says of an unreachable receiver
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < ATTEMPTS:
            await asyncio.sleep(backoff[min(attempt - 1, len(backoff) - 1)])
    return Outcome(False, ATTEMPTS, error, via)


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
    earlier attempt's lookup found no answer or a public one). ``via`` (stored, not in
    GraphQL): the checked address that answered the last attempt, ``"proxy"``, or None."""
    records: list[Row] = []
    for alert in alerts:
        for url in rule.get("channels") or []:
            body = orjson.dumps(payload(url, rule, alert))
            outcome = await post_signed(client, url, body, secret, backoff, allow=allow)
            records.append(
                {
                    "id": str(uuid.uuid4()),
                    "ruleId": rule["id"],
                    "url": url,
                    "alertStart": alert["start"],
                    "status": "DELIVERED" if outcome.delivered else "DEAD",
                    "attempts": outcome.attempts,
                    "lastError": outcome.error,
                    "via": outcome.via,
                    "at": iso(datetime.now(UTC)),
                    # What was sent (figures and terms, never posts), so a dead letter is
                    # re-sent as it was; the signature is made again at each sending.
                    "body": body.decode(),
                }
            )
    if records:
        await repo.record_deliveries(store, records)
    return records


async def resend(
    store: GraphStore,
    client: httpx.AsyncClient,
    dead: Row,
    secret: str,
    by: str,
    backoff: Sequence[float] = BACKOFF_S,
    *,
    allow: str = "",
) -> Row | None:
    """Send the DEAD delivery ``dead`` (a stored record with its ``body``) again, as
    :func:`post_signed` sends any delivery (signed now, the channel checked before each
    attempt, retried), under a lease on the record (:func:`repo.take_dead`); the updated
    record: status, attempts added, lastError, ``redeliveredAt``/``By``. None: not taken (it
    is not DEAD, or another re-send holds it)."""
    token = uuid.uuid4().hex
    now = datetime.now(UTC)
    taken = await repo.take_dead(store, str(dead["id"]), token, iso(now), iso(now + RESEND_LEASE))
    if taken is None:
        return None
    try:
        outcome = await post_signed(
            client, str(taken["url"]), str(taken["body"]).encode(), secret, backoff, allow=allow
        )
    except BaseException:
        await repo.release_delivery(store, str(taken["id"]), token)
        raise
    result = {
        "status": "DELIVERED" if outcome.delivered else "DEAD",
        "attempts": outcome.attempts,
        "lastError": outcome.error,
        "via": outcome.via,
        "at": iso(datetime.now(UTC)),
        "by": by,
    }
    recorded = await repo.record_redelivery(store, str(taken["id"]), token, result)
    if recorded is not None:
        return recorded
    # The lease ran out meanwhile and another re-send took the record over: this one's outcome.
    return taken | {
        "status": result["status"],
        "attempts": int(taken["attempts"]) + outcome.attempts,
        "lastError": outcome.error,
        "via": outcome.via,
        "redeliveredAt": result["at"],
        "redeliveredBy": by,
    }


__all__ = [
    "RESEND_LEASE",
    "Outcome",
    "deliver",
    "dingtalk_url",
    "message",
    "payload",
    "pinned",
    "post_signed",
    "resend",
]
