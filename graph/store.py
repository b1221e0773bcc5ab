"""The one seam between c360 and a graph database.

Repositories import only this module; backends (``graph.falkordb``, ``graph.neo4j``) are
siblings that implement :class:`GraphStore`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, LiteralString, Protocol, runtime_checkable

Row = dict[str, Any]
Params = Mapping[str, Any]


@dataclass
class StoreStats:
    """Round trips made through a store; tests and benchmarks read it."""

    round_trips: int = 0


@runtime_checkable
class GraphStore(Protocol):
    """Run parameterised Cypher and get plain dicts back (one per row, keyed by column)."""

    stats: StoreStats
    # Seconds after which the server stops a read (None: no limit). The hub sets its request
    # timeout here: a read its client has given up on stops using the graph server too.
    read_timeout_s: float | None

    async def read(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        """A read-only query (may go to a replica)."""
        ...

    async def write(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        """A write in a managed transaction; the query must be idempotent (it may be retried)."""
        ...

    async def setup_schema(self) -> None:
        """Create the indexes/constraints on every natural key; safe to run again."""
        ...

    async def ping(self) -> None:
        """Raise GraphUnavailable unless the graph answers."""
        ...

    async def compact(self) -> None:
        """Make everything written so far cheap to load at the next start (the embedded
        FalkorDB folds its write log into a snapshot); called after bulk jobs. A no-op where
        the server manages its own persistence."""
        ...

    async def clear(self) -> None:
        """Delete every node and relationship, keeping the schema (tests, `c360 seed
        --reset`). FalkorDB drops the graph and creates the schema again (graph/falkordb.py)."""
        ...

    async def close(self) -> None: ...


# Natural keys per label, the single list both backends build their schema from.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "Customer": ("id",),
    "Household": ("id",),
    "Account": ("id",),
    "Transaction": ("id",),
    "Interaction": ("id",),
    "Advisor": ("id",),
    "Branch": ("id",),
    "Product": ("code",),
    "SocialAccount": ("platform", "handle"),
    "Post": ("platform", "postId"),
    "Brand": ("name",),
}

# Every relationship type the repositories' Cypher names. FalkorDB (4.16) caches a query's
# plan by its text, and a plan compiled while a type did not exist yet keeps reading no edges
# of it in pattern comprehensions (``[(c)-[:OWNS]->(a) | c.id]``) after the first edge of that
# type is written, until the plan leaves the cache: a hub started on an empty graph showed
# imported accounts with no owner (QA, session 16). setup_schema creates every type up front.
RELATIONSHIP_TYPES: tuple[str, ...] = (
    "ABOUT", "HAD", "HAS_SOCIAL", "HAS_TRANSACTION", "MANAGED_BY", "MEMBER_OF", "MENTIONS",
    "OWNS", "POSTED", "RELATED_TO", "TARGETS", "WORKS_AT",
)  # fmt: skip

# The label of the graph's one node recording which open-time upgrades it had.
SCHEMA_LABEL = "C360Schema"

# Extra lookup indexes (label, property) used by searches and time filters.
LOOKUP_INDEXES: tuple[tuple[str, str], ...] = (
    # Personal values are sealed at rest (graph.fieldcipher): exact lookups by blind index.
    ("Customer", "phoneBidx"),
    ("Customer", "idNumberBidx"),
    ("Customer", "emailBidx"),
    ("Customer", "segment"),
    # A new id is refused when one differing only by case is stored (customers.case_twins).
    ("Customer", "idKey"),
    ("Transaction", "time"),
    ("Interaction", "time"),
    ("Post", "createdAt"),
    ("Post", "fingerprint"),
    # Alerts are claimed once per rule and day by MERGE on the key (resolvers/alert_schedule).
    ("RaisedAlert", "key"),
    # Webhook pushes are claimed once by signature, before their posts are stored
    # (webhook_pushes.py).
    ("WebhookPush", "signature"),
    # createCampaign checks for a duplicate by product in the write that creates the campaign
    # (repositories/campaigns.create_campaign). The index also makes the label exist before
    # any campaign does: two concurrent first creates, planned while no Campaign label
    # existed, each found no other campaign and both were made (session 21).
    ("Campaign", "product"),
    # The graph's one marker of the open-time upgrades done (graph.connect.run_upgrades);
    # also makes the label exist before the marker does (the plan cache, as above).
    (SCHEMA_LABEL, "key"),
)


async def id_windows(
    store: GraphStore, top: LiteralString, size: int
) -> AsyncIterator[tuple[int, int]]:
    """Windows ``[lo, hi)`` of ``size`` node ids up to the highest ``top`` returns (as
    ``top``), for a walk over every node of a label that reads each node once, whatever
    order the graph scans them in: FalkorDB reads a window by its id range (a page that
    restarted from the first node re-read every node done, and one sorted by key sorted every
    node left: both quadratic, 90 000 posts 15 s against 6.6 s). No window when it has none."""
    rows = await store.read(top)
    last = rows[0]["top"] if rows else None
    for lo in range(0, -1 if last is None else int(last) + 1, size):
        yield lo, lo + size


__all__ = [
    "LOOKUP_INDEXES",
    "NATURAL_KEYS",
    "SCHEMA_LABEL",
    "GraphStore",
    "Params",
    "Row",
    "StoreStats",
    "id_windows",
]
