"""Per-brand alert rules: (:AlertRule {id, brand, query, threshold, baselineDays, minVolume,
channels, secretRef (a reference to its webhook secret, never the secret), updatedBy,
updatedAt}), and their outbound deliveries (:AlertDelivery {id, ...}): the
dead letters among them re-sent under a lease (``resendToken``, ``resendUntil``)."""

from __future__ import annotations

from graph.store import GraphStore, Row
from graph.timerange import time_cmp

_FIELDS = "r {.id, .brand, .query, .threshold, .baselineDays, .minVolume, .channels, " \
    ".secretRef, .updatedBy, .updatedAt}"  # fmt: skip


async def put_rule(store: GraphStore, rule_id: str, props: Row) -> Row:
    """Create or replace the rule ``rule_id`` (every property of ``props`` set, nulls
    included); the stored rule."""
    rows = await store.write(
        f"""
        MERGE (r:AlertRule {{id: $id}})
        SET r.brand = $p.brand, r.query = $p.query, r.threshold = $p.threshold,
            r.baselineDays = $p.baselineDays, r.minVolume = $p.minVolume,
            r.channels = $p.channels, r.secretRef = $p.secretRef, r.updatedBy = $p.updatedBy,
            r.updatedAt = $p.updatedAt
        RETURN {_FIELDS} AS rule
        """,
        {"id": rule_id, "p": props},
    )
    return dict(rows[0]["rule"])


async def set_secret_ref(store: GraphStore, rule_id: str, ref: str, by: str, at: str) -> bool:
    rows = await store.write(
        """
        MATCH (r:AlertRule {id: $id})
        SET r.secretRef = $ref, r.updatedBy = $by, r.updatedAt = $at
        RETURN r.id AS id
        """,
        {"id": rule_id, "ref": ref, "by": by, "at": at},
    )
    return bool(rows)


async def delete_rule(store: GraphStore, rule_id: str) -> bool:
    rows = await store.write(
        "MATCH (r:AlertRule {id: $id}) WITH r, r.id AS id DELETE r RETURN count(id) AS n",
        {"id": rule_id},
    )
    return bool(rows and int(rows[0]["n"]))


async def rules(store: GraphStore, brand: str | None = None) -> list[Row]:
    return [
        dict(r["rule"])
        for r in await store.read(
            f"""
            MATCH (r:AlertRule) WHERE $brand IS NULL OR r.brand = $brand
            RETURN {_FIELDS} AS rule ORDER BY r.brand, r.id
            """,
            {"brand": brand},
        )
    ]


async def rule(store: GraphStore, rule_id: str) -> Row | None:
    rows = await store.read(
        f"MATCH (r:AlertRule {{id: $id}}) RETURN {_FIELDS} AS rule", {"id": rule_id}
    )
    return dict(rows[0]["rule"]) if rows else None


async def record_deliveries(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, ruleId, url, alertStart, status (DELIVERED | DEAD), attempts, lastError,
    at, via (the address that answered, "proxy", or null), body (the JSON sent, unsigned)}:
    one batched write."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (d:AlertDelivery {id: r.id})
        SET d += r
        RETURN count(d) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def deliveries(store: GraphStore, rule_id: str | None, status: str | None) -> list[Row]:
    return [
        dict(r["d"])
        for r in await store.read(
            """
            MATCH (d:AlertDelivery)
            WHERE ($rule IS NULL OR d.ruleId = $rule) AND ($status IS NULL OR d.status = $status)
            RETURN d {.*} AS d ORDER BY d.at DESC, d.id
            LIMIT 500
            """,
            {"rule": rule_id, "status": status},
        )
    ]


async def delivery(store: GraphStore, delivery_id: str) -> Row | None:
    rows = await store.read(
        "MATCH (d:AlertDelivery {id: $id}) RETURN d {.*} AS d", {"id": delivery_id}
    )
    return dict(rows[0]["d"]) if rows else None


async def take_dead(
    store: GraphStore, delivery_id: str, token: str, now: str, until: str
) -> Row | None:
    """Take the DEAD delivery ``delivery_id`` for a re-send until ``until`` (a lease: a re-send
    whose process died is taken again after it); None when it is not DEAD or another re-send
    holds it. One write, so of two callers at once one gets it."""
    rows = await store.write(
        """
        MATCH (d:AlertDelivery {id: $id})
        WHERE d.status = 'DEAD' AND (d.resendUntil IS NULL OR """
        + time_cmp("d.resendUntil", "<=", "$now")
        + """)
        SET d.resendToken = $token, d.resendUntil = $until
        RETURN d {.*} AS d
        """,
        {"id": delivery_id, "token": token, "now": now, "until": until},
    )
    return dict(rows[0]["d"]) if rows else None


async def record_redelivery(
    store: GraphStore, delivery_id: str, token: str, outcome: Row
) -> Row | None:
    """outcome: {status, attempts (this re-send's, added to the record's), lastError, via,
    at, by}: written when ``token`` still holds the lease; the record then (None: lost)."""
    rows = await store.write(
        """
        MATCH (d:AlertDelivery {id: $id}) WHERE d.resendToken = $token
        SET d.status = $o.status, d.attempts = d.attempts + $o.attempts,
            d.lastError = $o.lastError, d.via = $o.via, d.redeliveredAt = $o.at,
            d.redeliveredBy = $o.by, d.redeliveries = coalesce(d.redeliveries, 0) + 1,
            d.resendToken = null, d.resendUntil = null
        RETURN d {.*} AS d
        """,
        {"id": delivery_id, "token": token, "o": outcome},
    )
    return dict(rows[0]["d"]) if rows else None


async def release_delivery(store: GraphStore, delivery_id: str, token: str) -> None:
    """Give up a re-send's lease (it failed before an outcome): re-sendable at once."""
    await store.write(
        """
        MATCH (d:AlertDelivery {id: $id}) WHERE d.resendToken = $token
        SET d.resendToken = null, d.resendUntil = null
        """,
        {"id": delivery_id, "token": token},
    )


__all__ = [
    "delete_rule",
    "deliveries",
    "delivery",
    "put_rule",
    "record_deliveries",
    "record_redelivery",
    "release_delivery",
    "rule",
    "rules",
    "set_secret_ref",
    "take_dead",
]
