"""Nodes per label, which the graph answers from its label index (no node is read)."""

from __future__ import annotations

from typing import Any

from graph.store import SCHEMA_LABEL, GraphStore


async def label_size(store: GraphStore, label: str) -> int:
    """How many nodes carry ``label`` (any name the graph gave: quoted, never a value)."""
    quoted = "`" + label.replace("`", "``") + "`"
    # A label cannot be a query parameter; quoted, the name cannot end the pattern.
    query: Any = f"MATCH (n:{quoted}) RETURN count(n) AS n"
    rows = await store.read(query)
    return int(rows[0]["n"]) if rows else 0


async def label_counts(store: GraphStore) -> dict[str, int]:
    """Nodes per label (labels with none left out). One count per label: ``MATCH (n) RETURN
    labels(n), count(n)`` walked every node (1.76 s against 0.01 s after a 100 000-customer
    seed, 8.2 M nodes)."""
    labels = [r["label"] for r in await store.read("CALL db.labels() YIELD label RETURN label")]
    labels = [label for label in labels if label != SCHEMA_LABEL]  # the upgrades' marker
    counts: dict[str, int] = {}
    for label in sorted(labels):
        if n := await label_size(store, label):
            counts[label] = n
    return counts


__all__ = ["label_counts", "label_size"]
