"""The subscriptions' logic: checks at the start, then batches from the event bus.

A subscription starts like a query: arguments checked (BAD_USER_INPUT), the policy asked (roles
without social access get FORBIDDEN) and one audit record written, allowed or not (fail closed:
no record, no subscription). Each batch it then delivers runs in a fresh request context (see
resolvers/subscription_context.py): the policy is asked again, masking happens where each field
resolves as in a query, and schema/extensions/subscription_audit.py writes the batch's record
before it is sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from graph.store import Row
from ingest.social.query_language import Query
from privacy.audit import make_record
from privacy.types import AuditUnavailable, Decision, Resource
from resolvers import social
from resolvers.context import RequestContext
from resolvers.errors import ApiError
from resolvers.event_bus import ALERTS, MENTIONS, Subscription
from resolvers.privacy import READ, Forbidden, RequestPrivacy, require_social
from resolvers.subscription_context import ConnectionContext

ALERT_RULES = Resource("AlertRule", "rules", {})


class NotOverWebsocket(ApiError):
    code = "BAD_REQUEST"

    def __init__(self) -> None:
        super().__init__(
            "subscriptions are served over a websocket at /graphql (graphql-transport-ws)"
        )


def connection(context: Any) -> ConnectionContext:
    if not isinstance(context, ConnectionContext):
        raise NotOverWebsocket
    return context


async def _audit_start(privacy: RequestPrivacy, name: str, args: dict[str, Any], ok: bool) -> None:
    if privacy.services.audit is None:
        raise AuditUnavailable("the audit log is not open")
    await privacy.services.audit.append(
        make_record(
            principal=privacy.principal,
            operation=f"subscribe:{name}",
            outcome="ok" if ok else "denied",
            request_id=privacy.request_id,
            decision_ids=privacy.decision_ids(),
            policy_revision=privacy.services.revision,
            details={"subscription": name, "arguments": args} | privacy.details,
        )
    )


async def _start(
    ctx: ConnectionContext, name: str, args: dict[str, Any], alerts: bool, query: str | None = None
) -> None:
    """The policy check and the start record; Forbidden (audited) when the role may not, and
    FORBIDDEN_FILTER for a query the caller may not filter by (``author:`` on hashed handles)."""
    privacy = (await ctx.begin_batch()).privacy
    try:
        social.check_author_filter(await require_social(privacy), query)
        if alerts:
            await privacy.require_resource(ALERT_RULES, READ)
    except Forbidden:
        await _audit_start(privacy, name, args, ok=False)
        raise
    await _audit_start(privacy, name, args, ok=True)


async def _next_batch(ctx: ConnectionContext, alerts: bool) -> tuple[RequestContext, Decision]:
    """A fresh context for the batch, the policy asked again (a revoked grant ends it); the
    batch's context and the feed's decision for the batch."""
    batch = await ctx.begin_batch()
    privacy = batch.privacy
    feed = await require_social(privacy)
    if alerts:
        await privacy.require_resource(ALERT_RULES, READ)
    return batch, feed


async def mentions(context: Any, query: str | None) -> AsyncGenerator[list[Row], None]:
    """Batches of new posts matching ``query`` (all new posts without one)."""
    ctx = connection(context)
    parsed: Query | None = social.query_filters(query).get("query")
    await _start(ctx, "mentionAdded", {"query": query}, alerts=False, query=query)
    return _mention_batches(ctx, ctx.bus.subscribe(MENTIONS), parsed)


async def _mention_batches(
    ctx: ConnectionContext, source: Subscription, query: Query | None
) -> AsyncGenerator[list[Row], None]:
    try:
        async for batch in source:
            rows = [r for r in batch if query is None or query.matches(r)]
            if rows:
                context, _ = await _next_batch(ctx, alerts=False)
                yield rows
                if context.audit_failed:
                    return  # its batch went out as AUDIT_UNAVAILABLE: complete, not skip
    finally:
        source.close()  # also when the client completes or the socket drops


async def alerts(context: Any, brand: str | None) -> AsyncGenerator[list[Row], None]:
    """Batches of alerts raised by the scheduled rule evaluation (of ``brand`` only)."""
    ctx = connection(context)
    name = social.check_brand(ctx.brands, brand, "brand")
    await _start(ctx, "alertRaised", {"brand": name}, alerts=True)
    return _alert_batches(ctx, ctx.bus.subscribe(ALERTS), name)


async def _alert_batches(
    ctx: ConnectionContext, source: Subscription, brand: str | None
) -> AsyncGenerator[list[Row], None]:
    try:
        async for batch in source:
            rows = [r for r in batch if brand is None or r["brand"] == brand]
            if not rows:
                continue
            context, feed = await _next_batch(ctx, alerts=True)
            # The alerts of a rule whose query names a handle by ``author:`` are about that
            # handle's posts: withheld from a caller who sees handles hashed, as
            # brandAlerts(rule:) refuses the rule and alertRules shows its query as null.
            rows = [r for r in rows if not social.names_hidden_author(feed, r.get("query"))]
            if rows:
                yield rows
                if context.audit_failed:
                    return  # its batch went out as AUDIT_UNAVAILABLE: complete, not skip
    finally:
        source.close()


__all__ = ["ALERT_RULES", "NotOverWebsocket", "alerts", "mentions"]
