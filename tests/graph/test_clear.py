"""``GraphStore.clear()`` on FalkorDB (what ``c360 seed --reset`` and the per-test fixture do)
drops the graph key and creates the schema again. Deleting every node instead broke FalkorDB
4.16 once the graph had held more than 16 384 nodes: nodes MERGEd afterwards read "Attempted
to access undefined attribute", or the server crashed (SIGSEGV). A graph of its own per test:
the crash would have taken the session's server down."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from graph.connect import open_store
from graph.embedded import EmbeddedFalkorDB
from graph.errors import GraphError
from graph.falkordb import FalkorDBStore
from graph.store import LOOKUP_INDEXES, NATURAL_KEYS, RELATIONSHIP_TYPES, GraphStore

# More nodes than FalkorDB's node block (16 384), the size past which deleting them all broke it.
MANY = 20_000
NAMES = {f"K{i}": f"客户{i}" for i in range(50)}
CUSTOMERS = [{"id": k, "props": {"name": name, "segment": "vip"}} for k, name in NAMES.items()]
UPSERT = "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c += r.props"
READ = "MATCH (c:Customer) RETURN c.id AS id, c.name AS name, c.segment AS segment ORDER BY id"


# What READ returns of CUSTOMERS.
EXPECTED = [{"id": k, "name": NAMES[k], "segment": "vip"} for k in sorted(NAMES)]


async def _fill(store: GraphStore, n: int = MANY) -> None:
    """Customers, then more than a node block of other nodes, with properties other than the
    ones written after clear() (the new graph numbers its property keys afresh). Without the
    customers first, the nodes MERGEd after deleting them all read back fine."""
    await store.write(UPSERT, {"rows": [{"id": c["id"], "props": {"old": 1}} for c in CUSTOMERS]})
    await store.write(
        "UNWIND range(1, $n) AS i CREATE (:Scratch {seq: i, tag: 'old', kind: 'x'})",
        {"n": n},
    )


async def test_nodes_merged_after_clearing_a_large_graph_read_back(short_dir: Path) -> None:
    store = await open_store(short_dir)
    try:
        await _fill(store)
        await store.clear()
        await store.write(UPSERT, {"rows": CUSTOMERS})
        assert await store.read(READ) == EXPECTED
        rows = await store.read("MATCH (n) RETURN count(n) AS n")
        assert rows == [{"n": len(CUSTOMERS)}]
    finally:
        await store.close()


async def test_clear_keeps_every_index_and_relationship_type(store: GraphStore) -> None:
    await store.write(UPSERT, {"rows": CUSTOMERS[:2]})
    await store.clear()
    rows = await store.read("CALL db.indexes() YIELD label, properties RETURN label, properties")
    indexed = {(r["label"], p) for r in rows for p in r["properties"]}
    wanted = {(label, key) for label, keys in NATURAL_KEYS.items() for key in keys}
    assert wanted | set(LOOKUP_INDEXES) <= indexed
    types = await store.read("CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t")
    assert {r["t"] for r in types} >= set(RELATIONSHIP_TYPES)


async def test_a_node_read_whole_after_clear_names_its_properties(store: GraphStore) -> None:
    """A reply holding a node names its properties by id, resolved by each query thread's
    cache of the graph's property keys; the new graph numbers them afresh. drop_graph() (the
    step of clear() that numbers afresh; clear() then declares the old names again, which
    moves 'alpha' past every cached number and hid a stale cache from this test)."""
    if not isinstance(store, FalkorDBStore):
        pytest.skip("property-key caches are the FalkorDB client's")
    await store.write("CREATE (:Scratch {zeta: 1})")
    # Concurrent reads, so every query thread caches 'zeta' under its number.
    whole = [store.read("MATCH (n:Scratch) RETURN n") for _ in range(20)]
    assert await asyncio.gather(*whole) == [[{"n": {"zeta": 1}}]] * 20
    await store.drop_graph()
    await store.write("CREATE (:Scratch {alpha: 'a'})")  # the number 'zeta' had
    whole = [store.read("MATCH (n:Scratch) RETURN n") for _ in range(20)]
    assert await asyncio.gather(*whole) == [[{"n": {"alpha": "a"}}]] * 20
    await store.clear()


async def test_the_graph_is_not_replaced_under_another_c360_process(short_dir: Path) -> None:
    """Review, session 17: a hub left running while another process dropped the graph went
    on writing with the old graph's property numbers, and after a restart its values read
    back under other names, or none. Replacing the graph is refused while it is connected."""
    store = await open_store(short_dir)
    other = subprocess.Popen(
        [sys.executable, "-c", ATTACHED, str(short_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline() == b"attached\n"
        await store.write(UPSERT, {"rows": CUSTOMERS[:1]})
        with pytest.raises(GraphError, match=f"pid {other.pid} \\("):
            await store.clear()
        assert await store.read(READ) == EXPECTED[:1]  # nothing was dropped
        other.communicate(b"", timeout=60)  # it closes its store and exits
        await store.clear()
        assert await store.read(READ) == []
    finally:
        if other.poll() is None:
            other.kill()
            other.communicate()
        await store.close()


# Another c360 process with a store open on the same data dir (attached to the test's server).
ATTACHED = """
import asyncio, sys
from pathlib import Path
from graph.connect import open_store

async def main():
    store = await open_store(Path(sys.argv[1]))
    await store.read("RETURN 1 AS n")
    print("attached", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await store.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("compacted", [False, True], ids=["log", "snapshot"])
async def test_what_is_written_after_clear_survives_a_restart(
    short_dir: Path, compacted: bool
) -> None:
    """The write log then holds the old graph, its key's deletion and the new graph (or, once
    compacted, a snapshot of the new graph alone): a restart reads the new one back, property
    names and indexes included. 'tag' was declared in the old graph (graph.property_keys):
    the new one must have it declared again before a write names it, or the replay numbers
    the names differently (an empty MERGE gives it a number unlogged)."""
    store = await open_store(short_dir)
    try:
        # Few nodes: a clean stop compacts a log of more than 1 MB, and the log is tested here.
        await _fill(store, 100)
        await store.clear()
        await store.write(UPSERT, {"rows": CUSTOMERS})
        await store.write("UNWIND $rows AS r MERGE (:Scratch {tag: r.tag})", {"rows": []})
        await store.write("CREATE (:Note {zed: 1})")
        await store.write("MERGE (s:Scratch {tag: 'new'}) SET s.later = 'l'")
        if compacted:
            await store.compact()
    finally:
        await store.close()
    assert (EmbeddedFalkorDB(short_dir).log_bytes() == 0) == compacted
    store = await open_store(short_dir)
    try:
        assert await store.read(READ) == EXPECTED
        rows = await store.read("MATCH (s:Scratch) RETURN s.tag AS tag, s.later AS later")
        assert rows == [{"tag": "new", "later": "l"}]
        assert await store.read("MATCH (n:Note) RETURN n.zed AS zed") == [{"zed": 1}]
        rows = await store.read(
            "CALL db.indexes() YIELD label, properties RETURN label, properties"
        )
        assert ("Customer", "segment") in {(r["label"], p) for r in rows for p in r["properties"]}
    finally:
        await store.close()
