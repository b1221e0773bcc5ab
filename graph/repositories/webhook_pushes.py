"""Signed webhook pushes already stored (:WebhookPush {signature, at}), kept in the graph so
that every hub process sharing it, and a restarted one, refuses a replay within the window
(ingest/social/webhook.py). ``at`` is Unix seconds; entries older than the window go as new
ones are written."""

from __future__ import annotations

from graph.store import GraphStore

# Expired entries deleted per write: a steady trickle, never one long delete.
PRUNE_BATCH = 500


async def push_seen(store: GraphStore, signature: str, since: float) -> bool:
    """Whether a push with this signature was stored at or after ``since``."""
    rows = await store.read(
        "MATCH (w:WebhookPush {signature: $signature}) WHERE w.at >= $since RETURN count(w) AS n",
        {"signature": signature, "since": since},
    )
    return bool(rows and rows[0]["n"])


async def remember_push(store: GraphStore, signature: str, at: float, expired: float) -> None:
    """Records a stored push; deletes up to PRUNE_BATCH entries from before ``expired``."""
    await store.write(
        """
        MERGE (w:WebhookPush {signature: $signature})
        SET w.at = $at
        WITH count(w) AS written
        OPTIONAL MATCH (old:WebhookPush) WHERE old.at < $expired
        WITH old LIMIT $batch
        DELETE old
        """,
        {"signature": signature, "at": at, "expired": expired, "batch": PRUNE_BATCH},
    )


__all__ = ["PRUNE_BATCH", "push_seen", "remember_push"]
