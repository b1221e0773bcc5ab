"""Per-brand alert rules: (:AlertRule {id, brand, query, threshold, baselineDays, minVolume,
channels, updatedBy, updatedAt})."""

from __future__ import annotations

from graph.store import GraphStore, Row

_FIELDS = "r {.id, .brand, .query, .threshold, .baselineDays, .minVolume, .channels, " \
    ".updatedBy, .updatedAt}"  # fmt: skip


async def put_rule(store: GraphStore, rule_id: str, props: Row) -> Row:
    """Create or replace the rule ``rule_id`` (every property of ``props`` set, nulls
    included); the stored rule."""
    rows = await store.write(
        f"""
        MERGE (r:AlertRule {{id: $id}})
        SET r.brand = $p.brand, r.query = $p.query, r.threshold = $p.threshold,
            r.baselineDays = $p.baselineDays, r.minVolume = $p.minVolume,
            r.channels = $p.channels, r.updatedBy = $p.updatedBy, r.updatedAt = $p.updatedAt
        RETURN {_FIELDS} AS rule
        """,
        {"id": rule_id, "p": props},
    )
    return dict(rows[0]["rule"])


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
    at, via (the address that answered, "proxy", or null)}: one batched write."""
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


__all__ = ["delete_rule", "deliveries", "put_rule", "record_deliveries", "rule", "rules"]
