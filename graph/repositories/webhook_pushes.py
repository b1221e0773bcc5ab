"""Signed webhook pushes claimed (:WebhookPush {signature, at, claim, stored}), kept in the
graph so that every hub process sharing it, and a restarted one, takes a signed push once
within the window (ingest/social/webhook.py).

A push is claimed before its posts are stored, by one write that creates the entry only if
no live one exists: FalkorDB runs the writes to a graph one at a time, so of two processes
claiming the same signature at once exactly one gets it. ``claim`` is a token of the caller's
own: a claim write applied but not answered (the store retries it) still reads as the
caller's. The winner marks the entry ``stored`` once the posts are in, or releases it when
they are not, so the sender's retry is taken. An entry left unstored (its process died, or
the release failed too) is taken again after ``LEASE_S``. ``at`` is Unix seconds; entries
older than the window go as new pushes are marked stored."""

from __future__ import annotations

from graph.store import GraphStore

# Expired entries deleted per write: a steady trickle, never one long delete.
PRUNE_BATCH = 500
# Seconds an unstored claim holds its push. Longer than a push can take in the hub (the
# request timeout, C360_REQUEST_TIMEOUT_S, is 15 s by default): a claim older than this was
# left by a process that died or could not release it. Taken again meanwhile, a push merges
# into the same posts (upserts are idempotent), so the bound is for liveness, not safety.
LEASE_S = 60.0


async def claim_push(
    store: GraphStore, signature: str, claim: str, at: float, since: float
) -> bool:
    """Claims the push signed ``signature`` for ``claim``; True when this caller holds it.

    Taken when there is no entry, or it is older than ``since`` (out of the window), or it
    is unstored and older than ``LEASE_S`` (abandoned). Otherwise another push holds it:
    stored, or in flight in some process."""
    rows = await store.write(
        """
        MERGE (w:WebhookPush {signature: $signature})
        ON CREATE SET w.at = $at, w.claim = $claim, w.stored = false
        WITH w, (w.claim = $claim OR w.at < $since
                 OR (w.stored = false AND w.at < $abandoned)) AS take
        SET w.at = CASE WHEN take THEN $at ELSE w.at END,
            w.stored = CASE WHEN take THEN false ELSE w.stored END,
            w.claim = CASE WHEN take THEN $claim ELSE w.claim END
        RETURN w.claim = $claim AS mine
        """,
        {
            "signature": signature,
            "claim": claim,
            "at": at,
            "since": since,
            "abandoned": at - LEASE_S,
        },
    )
    return bool(rows and rows[0]["mine"])


async def mark_stored(store: GraphStore, signature: str, claim: str, expired: float) -> None:
    """The claimed push is stored: a replay is refused for the rest of the window. Deletes up
    to PRUNE_BATCH entries from before ``expired``."""
    await store.write(
        """
        MATCH (w:WebhookPush {signature: $signature}) WHERE w.claim = $claim
        SET w.stored = true
        WITH count(w) AS marked
        OPTIONAL MATCH (old:WebhookPush) WHERE old.at < $expired
        WITH old LIMIT $batch
        DELETE old
        """,
        {"signature": signature, "claim": claim, "expired": expired, "batch": PRUNE_BATCH},
    )


async def release_push(store: GraphStore, signature: str, claim: str) -> None:
    """The claimed push was not stored: drop the claim, so the sender's retry is taken."""
    await store.write(
        """
        MATCH (w:WebhookPush {signature: $signature})
        WHERE w.claim = $claim AND w.stored = false
        DELETE w
        """,
        {"signature": signature, "claim": claim},
    )


__all__ = ["LEASE_S", "PRUNE_BATCH", "claim_push", "mark_stored", "release_push"]
