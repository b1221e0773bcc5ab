"""Copy a c360 graph from one GraphStore to another (embedded FalkorDB <-> Neo4j, or any pair).

Nodes are read in keyset pages on their natural key and written with ``UNWIND ... MERGE`` on
that key, so a re-run adds nothing; relationships are read per page of start nodes and merged
between the already-copied endpoints. Counts per label and relationship type are compared at
the end. Only the labels of ``NATURAL_KEYS`` and the relationships of the graph model (below)
are copied: that is the whole model, and anything else was not written by c360.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, LiteralString, Protocol

from graph.labels import label_size
from graph.store import NATURAL_KEYS, GraphStore, Row

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RelType:
    """One relationship type between two labels; ``merge_on`` are the relationship
    properties that tell two relationships between the same nodes apart."""

    type: str
    start: str
    end: str
    merge_on: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"(:{self.start})-[:{self.type}]->(:{self.end})"


# The graph model of DESIGN.md, every relationship the repositories write.
RELATIONSHIPS: tuple[RelType, ...] = (
    RelType("MEMBER_OF", "Customer", "Household"),
    RelType("OWNS", "Customer", "Account"),
    RelType("HAS_TRANSACTION", "Account", "Transaction"),
    RelType("HAD", "Customer", "Interaction"),
    RelType("ABOUT", "Interaction", "Product"),
    RelType("MANAGED_BY", "Customer", "Advisor"),
    RelType("WORKS_AT", "Advisor", "Branch"),
    RelType("RELATED_TO", "Customer", "Customer", merge_on=("kind",)),
    RelType("HAS_SOCIAL", "Customer", "SocialAccount"),
    RelType("POSTED", "SocialAccount", "Post"),
    RelType("MENTIONS", "Post", "Brand"),
    RelType("MENTIONS", "Post", "Product"),
)


def _label(label: str) -> tuple[str, ...]:
    # Names reach Cypher text only from the fixed tables; refuse anything else outright.
    if label not in NATURAL_KEYS:
        raise ValueError(f"unknown label {label!r}")
    return NATURAL_KEYS[label]


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain Cypher name: {name!r}")
    return name


def _keyset(var: str, keys: tuple[str, ...]) -> str:
    """``var`` strictly after the cursor ($k0, $k1, ...) in natural-key order."""
    terms = []
    for i, key in enumerate(keys):
        equal = [f"{var}.{k} = $k{j}" for j, k in enumerate(keys[:i])]
        terms.append("(" + " AND ".join([*equal, f"{var}.{key} > $k{i}"]) + ")")
    return "($k0 IS NULL OR " + " OR ".join(terms) + ")"


def _present(var: str, keys: tuple[str, ...]) -> str:
    return " AND ".join(f"{var}.{k} IS NOT NULL" for k in keys)


def _match_map(var: str, keys: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"{k}: {var}.{k}" for k in keys) + "}"


# The queries below are f-strings of names only: labels and types of the graph model, each
# checked by _label / _ident before it reaches a query; values always travel as parameters.


def node_page_query(label: str) -> LiteralString:
    keys = _label(label)
    order = ", ".join(f"n.{k}" for k in keys)
    return (
        f"MATCH (n:{label}) WHERE {_present('n', keys)} AND {_keyset('n', keys)} "
        f"WITH n ORDER BY {order} LIMIT $limit RETURN properties(n) AS props"
    )


def node_write_query(label: str) -> LiteralString:
    keys = _label(label)
    return (
        f"UNWIND $rows AS r MERGE (n:{label} {_match_map('r', keys)}) SET n += r "
        "RETURN count(n) AS n"
    )


def rel_page_query(rel: RelType) -> LiteralString:
    start, end, kind = _label(rel.start), _label(rel.end), _ident(rel.type)
    order = ", ".join(f"a.{k}" for k in start)
    a_keys = ", ".join(f".{k}" for k in start)
    b_keys = ", ".join(f".{k}" for k in end)
    return (
        f"MATCH (a:{rel.start}) WHERE {_present('a', start)} AND {_keyset('a', start)} "
        f"WITH a ORDER BY {order} LIMIT $limit "
        f"RETURN a {{{a_keys}}} AS a, "
        f"[(a)-[x:{kind}]->(b:{rel.end}) | {{b: b {{{b_keys}}}, props: properties(x)}}] AS rels"
    )


def rel_write_query(rel: RelType) -> LiteralString:
    start, end, kind = _label(rel.start), _label(rel.end), _ident(rel.type)
    merge = ""
    if rel.merge_on:
        merge = " " + _match_map("r.props", tuple(_ident(p) for p in rel.merge_on))
    return (
        f"UNWIND $rows AS r "
        f"MATCH (a:{rel.start} {_match_map('r.a', start)}) "
        f"MATCH (b:{rel.end} {_match_map('r.b', end)}) "
        f"MERGE (a)-[x:{kind}{merge}]->(b) SET x += r.props RETURN count(x) AS n"
    )


def rel_count_query(rel: RelType) -> LiteralString:
    _label(rel.start), _label(rel.end)
    kind = _ident(rel.type)
    return f"MATCH (:{rel.start})-[x:{kind}]->(:{rel.end}) RETURN count(x) AS n"


def _cursor(keys: tuple[str, ...], row: Row | None) -> dict[str, Any]:
    return {f"k{i}": (row[k] if row else None) for i, k in enumerate(keys)}


async def node_pages(store: GraphStore, label: str, batch_size: int) -> AsyncIterator[list[Row]]:
    """Every node of ``label`` as property dicts, ``batch_size`` at a time, in key order."""
    keys, query, last = _label(label), node_page_query(label), None
    while True:
        rows = await store.read(query, {"limit": batch_size, **_cursor(keys, last)})
        if not rows:
            return
        page = [r["props"] for r in rows]
        yield page
        last = page[-1]


async def rel_pages(store: GraphStore, rel: RelType, batch_size: int) -> AsyncIterator[list[Row]]:
    """Every ``rel`` as {a: start keys, b: end keys, props}, per page of start nodes."""
    keys, query, last = _label(rel.start), rel_page_query(rel), None
    while True:
        rows = await store.read(query, {"limit": batch_size, **_cursor(keys, last)})
        if not rows:
            return
        yield [{"a": r["a"], **x} for r in rows for x in r["rels"]]
        last = rows[-1]["a"]


async def count_graph(store: GraphStore) -> dict[str, int]:
    """Nodes per label and relationships per (start, type, end) of the graph model."""
    counts = {}
    for label in NATURAL_KEYS:
        counts[label] = await label_size(store, label)
    for rel in RELATIONSHIPS:
        counts[rel.name] = int((await store.read(rel_count_query(rel)))[0]["n"])
    return counts


@dataclass(frozen=True)
class CountRow:
    kind: Literal["nodes", "relationships"]
    name: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class MigrationReport:
    rows: list[CountRow]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def mismatches(self) -> list[CountRow]:
        return [r for r in self.rows if not r.ok]


def compare_counts(source: dict[str, int], target: dict[str, int]) -> MigrationReport:
    """Pure: the per-label/type comparison the CLI prints."""
    rows = [
        CountRow("nodes" if name in NATURAL_KEYS else "relationships", name, n, target.get(name, 0))
        for name, n in source.items()
    ]
    return MigrationReport(rows)


class Progress(Protocol):
    """What a caller sees of a running migration (the CLI draws rich progress bars)."""

    def start(self, step: str, total: int) -> None: ...

    def advance(self, step: str, done: int) -> None: ...


class _Silent:
    def start(self, step: str, total: int) -> None:
        pass

    def advance(self, step: str, done: int) -> None:
        pass


async def migrate_graph(
    source: GraphStore,
    target: GraphStore,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy every node then every relationship of the model; idempotent (MERGE on keys)."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    progress = progress or _Silent()
    before = await count_graph(source)
    for label in NATURAL_KEYS:
        progress.start(label, before[label])
        write = node_write_query(label)
        async for page in node_pages(source, label, batch_size):
            await target.write(write, {"rows": page})
            progress.advance(label, len(page))
    for rel in RELATIONSHIPS:
        progress.start(rel.name, before[rel.name])
        write = rel_write_query(rel)
        async for page in rel_pages(source, rel, batch_size):
            if page:
                await target.write(write, {"rows": page})
            progress.advance(rel.name, len(page))
    return compare_counts(await count_graph(source), await count_graph(target))


__all__ = [
    "RELATIONSHIPS",
    "CountRow",
    "MigrationReport",
    "Progress",
    "RelType",
    "compare_counts",
    "count_graph",
    "migrate_graph",
    "node_pages",
    "rel_pages",
]
