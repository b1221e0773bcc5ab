"""Wiring of the live features: the websocket side of /graphql (graphql-transport-ws, JWT at
connection_init), the event bus fed after ingest writes commit, and the alert scheduler.

Each hub process has its own bus, fed at once by its own ingest writes and alert runs, and
every C360_LIVE_POLL_S seconds (while it has subscribers) with what other processes stored:
`c360 ingest` runs and the other ``serve --workers`` processes (resolvers/graph_watch.py).
Alerts are raised once across processes: they are claimed in the graph.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from strawberry.exceptions import ConnectionRejectionError

from graph.repositories import social_events
from graph.store import GraphStore
from ingest.social.pipeline import Prepared
from ingest.social.terms import TermMatcher
from privacy.principal import PURPOSE_HEADER, AuthError, TokenVerifier
from resolvers.alert_schedule import AlertScheduler
from resolvers.brands import BrandNames
from resolvers.context import RequestContext
from resolvers.event_bus import MENTIONS, EventBus, post_key
from resolvers.graph_watch import GraphWatcher
from resolvers.subscription_context import ConnectionContext, MakeContext

log = logging.getLogger("c360.live")


def authenticate(verifier: TokenVerifier, params: Any) -> Any:
    """The Principal for a connection_init payload ``{"authorization": "Bearer <jwt>",
    "x-purpose": "..."}``; ConnectionRejectionError (close 4403) otherwise."""
    if not isinstance(params, dict):
        raise ConnectionRejectionError
    lowered = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
    headers: dict[str, str | list[str]] = {"authorization": lowered.get("authorization", "")}
    # Every key that is x-purpose in any case ("X-Purpose" and "x-purpose" both): two are
    # refused as two HTTP headers are (resolve_purpose), not the last one used.
    purposes = [v for k, v in params.items() if str(k).lower() == PURPOSE_HEADER]
    if purposes:
        headers[PURPOSE_HEADER] = [v if isinstance(v, str) else "" for v in purposes]
    try:
        return verifier.authenticate(headers)
    except AuthError as exc:
        log.info("websocket refused: %s", exc)
        raise ConnectionRejectionError({"reason": str(exc)}) from None


def connection_context(make: MakeContext, base: RequestContext, bus: EventBus) -> Any:
    return ConnectionContext(make, base, bus)


class IngestEvents:
    """The ingest pipelines' hook (``on_written``): after a batch's write commits, its new
    posts (read back as stored) go to ``mentionAdded`` and the days they fall on are queued
    for alert evaluation."""

    def __init__(self, bus: EventBus, scheduler: Callable[[], AlertScheduler | None]) -> None:
        self.bus = bus
        self.scheduler = scheduler

    async def __call__(self, store: GraphStore, prepared: Prepared) -> None:
        new = self.bus.fresh(MENTIONS, [r for r in prepared.rows if r.get("isNew")], post_key)
        if not new:
            return
        if self.bus.listeners(MENTIONS):
            keys = [{"platform": r["platform"], "postId": r["postId"]} for r in new]
            self.bus.publish(MENTIONS, await social_events.posts_by_key(store, keys))
        scheduler = self.scheduler()
        if scheduler is not None:
            request_days(scheduler, [r["props"]["createdAt"] for r in new])


def request_days(scheduler: AlertScheduler, created: list[str]) -> None:
    """Queue the days of these posts' times (ISO-8601 UTC) for alert evaluation."""
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in created if t]
    if times:
        scheduler.request(min(times), max(times) + timedelta(seconds=1))


def graph_watcher(
    bus: EventBus,
    get_store: Callable[[], Awaitable[GraphStore | None]],
    poll_s: float,
    scheduler: AlertScheduler,
) -> GraphWatcher:
    """Posts and alerts of other processes to this one's subscribers; their posts' days to
    the alert evaluation."""
    return GraphWatcher(
        bus,
        get_store,
        poll_s,
        on_posts=lambda posts: request_days(
            scheduler, [str(p.get("createdAt") or "") for p in posts]
        ),
    )


def brand_names(terms: Path | None) -> BrandNames:
    """The brands and aliases ingest tags posts with (``C360_TERMS`` or the default terms):
    what the API's brand arguments may name."""
    matcher = TermMatcher.load(terms)
    return BrandNames(list(matcher.terms.get("brands", {})), partial(matcher.named, "brands"))


def context_maker(
    settings: Any,
    get_store: Callable[[], Awaitable[GraphStore | None]],
    graph_error: Callable[[], str],
    privacy: Callable[[], Any],
    brands: BrandNames,
) -> MakeContext:
    async def make(principal: Any, request_id: str) -> RequestContext:
        return RequestContext(
            settings=settings,
            store_or_none=await get_store(),
            principal=principal,
            request_id=request_id,
            graph_error=graph_error(),
            privacy_services=privacy(),
            brands=brands,
        )

    return make


__all__ = [
    "IngestEvents",
    "authenticate",
    "brand_names",
    "connection_context",
    "context_maker",
    "graph_watcher",
    "request_days",
]
