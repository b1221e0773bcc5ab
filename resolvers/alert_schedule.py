"""Scheduled alert evaluation: every stored rule, every ``alert_eval_s`` seconds over the recent
days and after each ingest batch over the days it touched. An alert is raised once per rule and
bucket (claimed in the graph, so neither a later run nor another worker raises it again), then
delivered through the rule's channels (signed webhooks, dead letters on failure) and published
to ``alertRaised`` subscribers. A claim is settled once its delivery is recorded; one a run
left unsettled (it stopped between the claim and the end of the delivery: graph down, process
killed) is taken over by the first run after ``CLAIM_LEASE`` and delivered then.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from graph.errors import GraphError
from graph.read_limit import read_limit
from graph.repositories import alert_rules as rules_repo
from graph.repositories import social_events
from graph.store import GraphStore, Row
from resolvers import alert_delivery, alert_rules, alert_secrets, social
from resolvers.analytics import iso
from resolvers.errors import ApiError
from resolvers.event_bus import ALERTS, EventBus, alert_key, stop_task

log = logging.getLogger("c360.alerts")

TOP_POSTS = 3
TOP_TERMS = 5
INTERVAL = "DAY"  # rules count their baseline in days
FIRST_RUN_S = 30.0
# How long a run's claim on an alert keeps other runs off it: over a slow delivery's worst
# case (each of up to 5 channels: 3 attempts of a 10 s connect and a 10 s read), so a live run
# is not raced; a run that died leaves its alerts to the first run after it.
CLAIM_LEASE = timedelta(minutes=15)


def alert_row(rule: Row, alert: social.BrandAlert, raised_at: str) -> Row:
    """What a raised alert carries: to alertRaised subscribers, and to the rule's webhooks
    (the keys deliverAlerts sends, plus the rule and the evidence)."""
    f = alert.finding
    return {
        "key": f"{rule['id']}|{f.bucket.start}",
        "ruleId": str(rule["id"]),
        "brand": str(rule["brand"]),
        "query": rule.get("query"),
        "start": f.bucket.start,
        "kinds": list(f.kinds),
        "count": f.bucket.count,
        "negative": f.bucket.negative,
        "expected": f.expected,
        "volumeZ": f.volume_z,
        "negativeShare": f.share,
        "baselineNegativeShare": f.baseline_share,
        "terms": [t.term for t in alert.terms],
        "posts": alert.posts,
        "raisedAt": raised_at,
    }


# What goes to a rule's webhooks: figures and terms, never the posts (personal data leaves the
# hub only through the masked GraphQL API).
WEBHOOK_FIELDS = (
    "ruleId", "brand", "start", "kinds", "count", "negative", "expected", "volumeZ",
    "negativeShare", "baselineNegativeShare", "terms", "raisedAt",
)  # fmt: skip


def for_webhook(row: Row) -> Row:
    return {k: row[k] for k in WEBHOOK_FIELDS}


def claim(row: Row) -> Row:
    """The RaisedAlert node: its key, and the alert (its posts as keys) for the subscribers of
    other processes (resolvers/graph_watch.py)."""
    keys = [{"platform": p["platform"], "postId": p["postId"]} for p in row["posts"]]
    payload = {k: v for k, v in row.items() if k != "posts"} | {"postKeys": keys}
    return {
        "key": row["key"],
        "ruleId": row["ruleId"],
        "start": row["start"],
        "raisedAt": row["raisedAt"],
        "payload": orjson.dumps(payload).decode(),
    }


@dataclass
class RunResult:
    rules: int
    found: int
    raised: list[Row]
    deliveries: list[Row]


async def evaluate_rules(
    store: GraphStore,
    settings: Any,
    since: datetime,
    until: datetime,
    *,
    bus: EventBus | None = None,
    client: httpx.AsyncClient | None = None,
    lease: timedelta = CLAIM_LEASE,
) -> RunResult:
    """Every rule over the days of ``settings.timezone`` touching [since, until): alerts not
    raised before (or claimed more than ``lease`` ago by a run that did not finish them) are
    claimed, delivered (when the rule has channels and a secret: its own or
    C360_ALERT_WEBHOOK_SECRET),
    settled and published; the rest are left alone."""
    tz = social.check_zone(settings.timezone)
    rules = alert_rules.readable(await rules_repo.rules(store))  # a garbled one is left out
    started = datetime.now(UTC)
    now, expired = iso(started), iso(started - lease)
    run = uuid.uuid4().hex
    found = 0
    raised: list[Row] = []
    deliveries: list[Row] = []
    for rule in rules:
        try:
            config = alert_rules.apply(rule, social.alert_config(INTERVAL, settings), INTERVAL)
            filters = {"brand": rule["brand"], "includeReposts": True}
            filters |= social.query_filters(rule.get("query"))
            report = await social.brand_alerts(
                store, filters, since, until, INTERVAL, tz, config,
                top_posts=TOP_POSTS, top_terms=TOP_TERMS,
            )  # fmt: skip
        except ApiError as exc:  # a rule stored before a check tightened: skip, say so
            log.warning("alert rule %s not evaluated: %s", rule.get("id"), exc)
            continue
        rows = [alert_row(rule, a, now) for a in report.alerts]
        found += len(rows)
        claims = [claim(r) for r in rows]
        mine = await social_events.claim_alerts(store, claims, run, now, expired)
        new = [r for r in rows if r["key"] in mine]
        if not new:
            continue
        raised.extend(new)
        secret = alert_secrets.secret_for(rule, settings)
        if rule.get("channels") and not secret:
            log.warning(
                "alert rule %s: nothing sent: %s", rule["id"], alert_secrets.missing(rule, settings)
            )
        if rule.get("channels") and secret:
            owned = client is None
            http = client or httpx.AsyncClient(timeout=10.0)
            try:
                sent = [for_webhook(r) for r in new]
                deliveries += await alert_delivery.deliver(
                    store, http, rule, sent, secret, allow=settings.alert_channel_allow
                )
            finally:
                if owned:
                    await http.aclose()
        # Only now: a run stopped before this line leaves the claims to a later run.
        await social_events.settle_alerts(
            store, [r["key"] for r in new], run, iso(datetime.now(UTC))
        )
        if bus is not None:
            bus.publish_once(ALERTS, new, alert_key)
    return RunResult(len(rules), found, raised, deliveries)


class AlertScheduler:
    """Runs :func:`evaluate_rules` every ``settings.alert_eval_s`` seconds (0: never) over the
    last ``settings.alert_eval_days`` days, and after ingest batches over the days they
    touched; runs never overlap (windows asked for meanwhile are merged into the next run)."""

    def __init__(
        self,
        settings: Any,
        get_store: Callable[[], Awaitable[GraphStore | None]],
        bus: EventBus | None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.client = client  # None: one per delivering run
        self.get_store = get_store
        self.bus = bus
        self.runs = 0
        self.last: RunResult | None = None
        self._pending: tuple[datetime, datetime] | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="alert-scheduler")

    async def stop(self) -> None:
        await stop_task(self._task)

    def request(self, since: datetime, until: datetime) -> None:
        """Evaluate [since, until) soon (after an ingest batch)."""
        if self._pending is not None:
            since, until = min(since, self._pending[0]), max(until, self._pending[1])
        self._pending = (since, until)
        self._idle.clear()
        self._wake.set()

    async def settled(self) -> None:
        """Wait until no requested run is pending or running (tests, shutdown)."""
        await self._idle.wait()

    def recent(self) -> tuple[datetime, datetime]:
        now = datetime.now(UTC)
        return now - timedelta(days=self.settings.alert_eval_days), now + timedelta(seconds=1)

    async def _loop(self) -> None:
        period = self.settings.alert_eval_s
        # The first periodic run soon after start (catching up after downtime), but not in
        # the middle of the start itself.
        wait = min(period, FIRST_RUN_S)
        while True:
            try:
                async with asyncio.timeout(wait if period > 0 else None):
                    await self._wake.wait()
            except TimeoutError:
                self.request(*self.recent())
            wait = period
            self._wake.clear()
            window, self._pending = self._pending, None
            if window is not None:
                await self._run(*window)
            if self._pending is None:
                self._idle.set()

    async def _run(self, since: datetime, until: datetime) -> None:
        store = await self.get_store()
        if store is None:
            return
        # No request waits on a run: its reads carry the job limit, not the request's.
        # Never less than a request may take (an operator who raised that raised it for all).
        job = self.settings.job_timeout_s
        job_s = max(job, self.settings.request_timeout_s) if job else None
        try:
            with read_limit(job_s, "C360_JOB_TIMEOUT_S"):
                self.last = await evaluate_rules(
                    store, self.settings, since, until, bus=self.bus, client=self.client
                )
            self.runs += 1
            if self.last.raised:
                log.info(
                    "alerts raised: %d (rules %d, deliveries %d)",
                    len(self.last.raised), self.last.rules, len(self.last.deliveries),
                )  # fmt: skip
        except (GraphError, ApiError) as exc:
            log.warning("alert evaluation failed, retried at the next run: %s", exc)
        except Exception:
            log.exception("alert evaluation failed")


__all__ = [
    "CLAIM_LEASE",
    "AlertScheduler",
    "RunResult",
    "alert_row",
    "claim",
    "evaluate_rules",
    "for_webhook",
]
