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


# A post's place in the order the graph watcher reads posts in: (ingestedAt, platform, postId).
# ingestedAt is a whole second and a bulk import stamps thousands of posts with the same few
# seconds, so a time alone cannot say where a page ended; the key can.
PostKey = tuple[str, str, str]

_AFTER = (
    time_cmp("p.ingestedAt", ">=", "$at")
    + " AND ("
    + time_cmp("p.ingestedAt", ">", "$at")
    + " OR p.platform > $platform OR (p.platform = $platform AND p.postId > $postId))"
)
_UP_TO = (
    "("
    + time_cmp("p.ingestedAt", "<", "$toAt")
    + " OR ("
    + time_cmp("p.ingestedAt", "=", "$toAt")
    + " AND (p.platform < $toPlatform OR (p.platform = $toPlatform AND p.postId <= $toPostId))))"
)
_ORDER = "ORDER BY toString(p.ingestedAt), p.platform, p.postId LIMIT $limit"


def post_key_of(post: Row) -> PostKey:
    """Where ``post`` (a row with ingestedAt, platform, postId) is in the watcher's order."""
    return (str(post.get("ingestedAt") or ""), str(post["platform"]), str(post["postId"]))


def _after(key: PostKey) -> Row:
    return {"at": key[0], "platform": key[1], "postId": key[2]}


async def posts_ingested_after(store: GraphStore, after: PostKey, limit: int) -> list[Row]:
    """The posts after ``after`` in (ingestedAt, platform, postId) order, at most ``limit``
    (``p {.*}``): read again from the last one's key, every post comes once, however many
    share a second."""
    rows = await store.read(
        f"MATCH (p:Post) WHERE {_AFTER} RETURN p {{.*}} AS post {_ORDER}",
        _after(after) | {"limit": limit},
    )
    return [dict(r["post"]) for r in rows]


async def post_keys_ingested_between(
    store: GraphStore, after: PostKey, up_to: PostKey, limit: int
) -> list[Row]:
    """{ingestedAt, platform, postId} of the posts after ``after`` and at or before ``up_to``
    in the same order, at most ``limit``: keys only, for the watcher's look back at posts
    that committed after later-stamped ones (most were delivered already)."""
    return await store.read(
        f"""MATCH (p:Post) WHERE {_AFTER} AND {_UP_TO}
        RETURN p.ingestedAt AS ingestedAt, p.platform AS platform, p.postId AS postId {_ORDER}""",
        _after(after)
        | {"toAt": up_to[0], "toPlatform": up_to[1], "toPostId": up_to[2], "limit": limit},
    )


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
    "PostKey",
    "alerts_raised_since",
    "claim_alerts",
    "post_key_of",
    "post_keys_ingested_between",
    "posts_by_key",
    "posts_ingested_after",
    "settle_alerts",
]
