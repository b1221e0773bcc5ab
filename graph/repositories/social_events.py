"""Reads and writes behind the live social events: posts just written, read back as stored
(corrected labels and duplicate marks included), and raised alerts claimed once per rule and
bucket (:RaisedAlert {key}), whichever process evaluates first."""

from __future__ import annotations

from graph.store import GraphStore, Row


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
    """rows: {key, ruleId, start, raisedAt}. Creates each (:RaisedAlert {key}) that does not
    exist yet, in one write; the keys this call created (the others were raised before, by
    this process or another), so an alert is delivered once whatever runs it."""
    if not rows:
        return set()
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:RaisedAlert {key: r.key})
        ON CREATE SET a.ruleId = r.ruleId, a.start = r.start, a.raisedAt = r.raisedAt,
                      a.claim = $claim
        RETURN a.key AS key, a.claim = $claim AS mine
        """,
        {"rows": rows, "claim": claim},
    )
    return {r["key"] for r in result if r["mine"]}


__all__ = ["claim_alerts", "posts_by_key"]
