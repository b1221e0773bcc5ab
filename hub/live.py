"""Wiring of the live features: the websocket side of /graphql (graphql-transport-ws, JWT at
connection_init), the event bus fed after ingest writes commit, and the alert scheduler.

Each hub process has its own bus: with ``serve --workers N`` a websocket receives the posts
stored through its own worker's webhook and the alerts its own worker raised (alerts are still
raised once across workers: they are claimed in the graph). See the README's "Subscriptions".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from strawberry.exceptions import ConnectionRejectionError

from graph.repositories import social_events
from graph.store import GraphStore
from ingest.social.pipeline import Prepared
from privacy.principal import PURPOSE_HEADER, AuthError, TokenVerifier
from resolvers.alert_schedule import AlertScheduler
from resolvers.context import RequestContext
from resolvers.event_bus import MENTIONS, EventBus
from resolvers.subscription_context import ConnectionContext, MakeContext

log = logging.getLogger("c360.live")


def authenticate(verifier: TokenVerifier, params: Any) -> Any:
    """The Principal for a connection_init payload ``{"authorization": "Bearer <jwt>",
    "x-purpose": "..."}``; ConnectionRejectionError (close 4403) otherwise."""
    if not isinstance(params, dict):
        raise ConnectionRejectionError
    lowered = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
    headers = {"authorization": lowered.get("authorization", "")}
    if PURPOSE_HEADER in lowered:
        headers[PURPOSE_HEADER] = lowered[PURPOSE_HEADER]
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
        new = [r for r in prepared.rows if r.get("isNew")]
        if not new:
            return
        if self.bus.listeners(MENTIONS):
            keys = [{"platform": r["platform"], "postId": r["postId"]} for r in new]
            self.bus.publish(MENTIONS, await social_events.posts_by_key(store, keys))
        scheduler = self.scheduler()
        if scheduler is not None:
            times = [datetime.fromisoformat(r["props"]["createdAt"]) for r in new]
            scheduler.request(min(times), max(times) + timedelta(seconds=1))


def context_maker(
    settings: Any,
    get_store: Callable[[], Awaitable[GraphStore | None]],
    graph_error: Callable[[], str],
    privacy: Callable[[], Any],
) -> MakeContext:
    async def make(principal: Any, request_id: str) -> RequestContext:
        return RequestContext(
            settings=settings,
            store_or_none=await get_store(),
            principal=principal,
            request_id=request_id,
            graph_error=graph_error(),
            privacy_services=privacy(),
        )

    return make


__all__ = ["IngestEvents", "authenticate", "connection_context", "context_maker"]
