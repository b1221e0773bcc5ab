"""Reads and writes behind the live social events: posts just written, read back as stored
(corrected labels and duplicate marks included), and raised alerts claimed once per rule and
bucket (:RaisedAlert {key}), whichever process evaluates first."""

from __future__ import annotations

from graph.store import GraphStore, Row
from graph.timerange import time_cmp


async def posts_by_key(store: GraphStore, keys: list[Row]) -> list[Row]:
    """keys: {platform, postId} -> the stored posts (``p {.*}``), in the order of ``keys``."""
    rows = await store.read(
        """
        UNWIND range(0, size($keys) - 1) AS i
        WITH i, $keys[i] AS k
        MATCH (p:Post {platform: k.platform, postId: k.postId})
        RETURN i, p {.*} AS post ORDER BY i
        """,
        {"keys": keys},
    )
    return [dict(r["post"]) for r in rows]


async def claim_alerts(store: GraphStore, rows: list[Row], claim: str) -> set[str]:
    """rows: {key, ruleId, start, raisedAt, payload}. Creates each (:RaisedAlert {key}) that
    does not exist yet, in one write; the keys this call created (the others were raised
    before, by this process or another), so an alert is delivered once whatever runs it."""
    if not rows:
        return set()
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:RaisedAlert {key: r.key})
        ON CREATE SET a.ruleId = r.ruleId, a.start = r.start, a.raisedAt = r.raisedAt,
                      a.payload = r.payload, a.claim = $claim
        RETURN a.key AS key, a.claim = $claim AS mine
        """,
        {"rows": rows, "claim": claim},
    )
    return {r["key"] for r in result if r["mine"]}


async def posts_ingested_since(store: GraphStore, since: str, limit: int) -> list[Row]:
    """Posts first stored at or after ``since`` (ISO-8601 UTC), oldest first, at most
    ``limit``."""
    rows = await store.read(
        """
        MATCH (p:Post) WHERE """
        + time_cmp("p.ingestedAt", ">=", "$since")
        + """
        RETURN p {.*} AS post ORDER BY p.ingestedAt, p.platform, p.postId LIMIT $limit
        """,
        {"since": since, "limit": limit},
    )
    return [dict(r["post"]) for r in rows]


async def alerts_raised_since(store: GraphStore, since: str, limit: int) -> list[Row]:
    """Alerts raised at or after ``since``: {key, raisedAt, payload}, oldest first."""
    return await store.read(
        """
        MATCH (a:RaisedAlert) WHERE """
        + time_cmp("a.raisedAt", ">=", "$since")
        + """
        RETURN a.key AS key, a.raisedAt AS raisedAt, a.payload AS payload
        ORDER BY a.raisedAt, a.key LIMIT $limit
        """,
        {"since": since, "limit": limit},
    )


__all__ = ["alerts_raised_since", "claim_alerts", "posts_by_key", "posts_ingested_since"]
