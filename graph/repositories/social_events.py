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


async def claim_alerts(
    store: GraphStore, rows: list[Row], claim: str, now: str, expired: str
) -> set[str]:
    """rows: {key, ruleId, start, raisedAt, payload}. Creates each (:RaisedAlert {key}) that
    does not exist yet, in one write, claimed by ``claim`` at ``now``; and takes over one whose
    claim was made at or before ``expired`` and never settled (:func:`settle_alerts`: its run
    stopped between the claim and the end of its delivery). The keys this call holds (the
    others were raised before, or are being delivered, by this process or another), so an
    alert is delivered once whatever runs it, and again only when its run did not finish.
    Alerts claimed before claims were settled (no ``claimedAt``) count as settled."""
    if not rows:
        return set()
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:RaisedAlert {key: r.key})
        ON CREATE SET a.ruleId = r.ruleId, a.start = r.start, a.raisedAt = r.raisedAt,
                      a.payload = r.payload, a.claim = $claim, a.claimedAt = $now
        WITH a, a.claim <> $claim AND a.settledAt IS NULL AND a.claimedAt IS NOT NULL
                AND """
        + time_cmp("a.claimedAt", "<=", "$expired")
        + """ AS retake
        SET a.claim = CASE WHEN retake THEN $claim ELSE a.claim END,
            a.claimedAt = CASE WHEN retake THEN $now ELSE a.claimedAt END,
            a.retaken = CASE WHEN retake THEN coalesce(a.retaken, 0) + 1 ELSE a.retaken END
        RETURN a.key AS key, a.claim = $claim AS mine
        """,
        {"rows": rows, "claim": claim, "now": now, "expired": expired},
    )
    return {r["key"] for r in result if r["mine"]}


async def settle_alerts(store: GraphStore, keys: list[str], claim: str, now: str) -> None:
    """The run holding ``claim`` is done with these alerts (delivered, or nothing to send):
    no later run takes them over."""
    if keys:
        await store.write(
            """
            MATCH (a:RaisedAlert) WHERE a.key IN $keys AND a.claim = $claim
            SET a.settledAt = $now
            """,
            {"keys": keys, "claim": claim, "now": now},
        )


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


__all__ = [
    "alerts_raised_since",
    "claim_alerts",
    "posts_by_key",
    "posts_ingested_since",
    "settle_alerts",
]
