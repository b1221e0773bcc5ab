"""Every relationship type exists before the first query names it (graph.store
RELATIONSHIP_TYPES). FalkorDB caches a plan by query text; a plan compiled while a type did
not exist kept reading none of its edges in pattern comprehensions after they were written:
on a graph the hub opened empty, the import's lookup saw no owner of an imported account and
re-imports counted every account as updated (QA, session 16), and a 360 view could show an
account without its owners until the plan left the cache."""

from __future__ import annotations

import re
from pathlib import Path

from graph.connect import store_session
from graph.store import RELATIONSHIP_TYPES

ROOT = Path(__file__).resolve().parents[2]
# An edge in Cypher text: -[:TYPE]-> or -[r:TYPE|OTHER]- (not a Python slice x[:N]).
EDGE = re.compile(r"-\[[a-z_0-9]*:([A-Z_]+(?:\|[A-Z_]+)*)")
CODE = ("console", "graph", "hub", "ingest", "insights", "privacy", "resolvers", "schema", "shared")


def test_every_relationship_type_the_code_names_is_declared() -> None:
    named: set[str] = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for match in EDGE.finditer(path.read_text(encoding="utf-8")):
                named.update(match.group(1).split("|"))
    assert named, "the scan found no Cypher edges"
    assert named <= set(RELATIONSHIP_TYPES), sorted(named - set(RELATIONSHIP_TYPES))


async def test_a_comprehension_read_before_the_first_edge_sees_edges_written_after(
    tmp_path: Path,
) -> None:
    # A graph of its own: the session graph has every type already.
    async with store_session(tmp_path) as store:
        await store.write("CREATE (:Customer {id: 'Q1'}), (:Account {id: 'A1'})")
        owners = "MATCH (a:Account) RETURN [(c:Customer)-[:OWNS]->(a) | c.id] AS owners"
        assert await store.read(owners) == [{"owners": []}]
        await store.write(
            "MATCH (c:Customer {id: 'Q1'}), (a:Account {id: 'A1'}) CREATE (c)-[:OWNS]->(a)"
        )
        assert await store.read(owners) == [{"owners": ["Q1"]}]
        types = await store.read("CALL db.relationshipTypes() YIELD relationshipType RETURN 1")
        assert len(types) == len(RELATIONSHIP_TYPES)
        assert await store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 2}]  # none left
