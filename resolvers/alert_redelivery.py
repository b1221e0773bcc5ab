"""Re-sending a dead letter (``redeliverAlert``, ``c360 alerts redeliver``): by those who may
write the delivery's rule, audited before anything is sent, the stored body sent again through
the first delivery's path (:func:`resolvers.alert_delivery.resend`: signed now, the channel
checked at each attempt, retried). A delivery DELIVERED, or being re-sent, is refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from graph.repositories import alert_rules as repo
from graph.store import GraphStore, Row
from privacy.types import Resource
from resolvers import alert_delivery, alert_rules, alert_secrets
from resolvers.analytics import iso
from resolvers.errors import BadUserInput, NotFound
from resolvers.privacy import READ, RequestPrivacy

FIELD = "deliveryId"


async def redeliver(
    privacy: RequestPrivacy,
    store: GraphStore,
    client: httpx.AsyncClient,
    delivery_id: str,
    settings: Any,
    backoff: Sequence[float] = alert_delivery.BACKOFF_S,
) -> Row:
    """The delivery record after the re-send (DELIVERED, or DEAD with this send's error)."""
    # Delivery ids are listed to the rules' readers; anyone else learns nothing of one.
    await privacy.require_resource(Resource("AlertRule", "rules", {}), READ)
    found = await repo.delivery(store, delivery_id)
    if found is None:
        raise NotFound("no alert delivery with this id", field=FIELD)
    rule_id = str(found["ruleId"])
    await alert_rules.put_allowed(privacy, rule_id)  # as deliverAlerts: the rule's writers
    rule = await repo.rule(store, rule_id)
    refused = f"its rule {rule_id} was deleted" if rule is None else why_not(found, rule)
    if refused is not None:
        raise BadUserInput(f"{refused}; nothing was sent", field=FIELD)
    assert rule is not None
    # The rule's secret now (rotated since the first sending: the receiver expects the new).
    secret = alert_secrets.secret_for(rule, settings)
    if not secret:
        raise BadUserInput(
            f"{alert_secrets.missing(rule, settings)}; nothing was sent", field=FIELD
        )
    by = privacy.principal.subject if privacy.principal else "system"
    await privacy.audit_intent(
        {"redeliver": f"AlertDelivery:{delivery_id}", "rule": rule_id, "url": host(found)}
    )
    sent = await alert_delivery.resend(
        store, client, found, secret, by, backoff, allow=settings.alert_channel_allow
    )
    if sent is None:  # taken or delivered between the read above and the lease
        now = await repo.delivery(store, delivery_id)
        raise BadUserInput(f"{why_not(now, None) or 'being re-sent'}; nothing was sent", FIELD)
    return sent


def why_not(delivery: Row | None, rule: Row | None) -> str | None:
    """Why ``delivery`` cannot be re-sent now (None: it can; ``rule`` None: not checked)."""
    if delivery is None:
        return "the delivery was deleted"
    if delivery["status"] == "DELIVERED":
        return f"delivered already (at {delivery.get('redeliveredAt') or delivery['at']})"
    until = delivery.get("resendUntil")
    if until and str(until) > iso(datetime.now(UTC)):  # a lease run out is taken again
        return f"being re-sent (until {until} at the latest)"
    if rule is None:
        return None
    if not delivery.get("body"):
        # Deliveries recorded before bodies were kept: deliverAlerts evaluates the rule again.
        return "this delivery's body was not kept (recorded by an older version): use deliverAlerts"
    if delivery["url"] not in (rule.get("channels") or []):
        return f"the channel is no longer on rule {rule['id']}"
    return None


def host(delivery: Row) -> str:
    """The channel's host for the audit record (the URL may hold the receiver's token)."""
    return httpx.URL(str(delivery["url"])).host


__all__ = ["redeliver", "why_not"]
