"""The import's writer task (ingest/writing.py) against the real embedded FalkorDB: batches are
looked up ahead of the write, but a failed write stops the import with the checkpoint at the
last batch written, no later batch is written, and a re-run completes without duplicates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from graph.errors import GraphError
from graph.repositories.imports import Found, lookup_customers
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.crm import ImportInterrupted, ImportKind, checkpoint_key, import_file
from ingest.records import ImportRecord
from ingest.writing import QUEUE_DEPTH


class GatedRecord(ImportRecord):
    id: str
    gated: bool = False
    tag: str = ""

    def to_graph_row(self) -> Row:
        return {"id": self.id, "gated": self.gated, "props": {"tag": self.tag}}


# A real graph failure: "100 / g.open" while the Gate's open is 0 makes FalkorDB reject the
# whole batch ("Division by zero", nothing of it applied). Opening the gate is the "fix".
GATED_UPSERT = """
UNWIND $rows AS r
MERGE (c:Customer {id: r.id})
SET c += r.props, c.writes = coalesce(c.writes, 0) + 1
WITH c, r
CALL {
    WITH c, r
    WITH c, r WHERE r.gated
    MATCH (g:Gate)
    SET c.ratio = 100 / g.open
    RETURN count(*) AS gated
}
RETURN count(c) AS n
"""


class Recorder:
    """A gated kind whose lookup and upsert note which batch (its first id) they saw. The
    gated batch's write waits until the lookup ``ahead`` batches later has run, so the failure
    always meets batches already looked up and queued behind it."""

    def __init__(self, gated_batch: int, batch_size: int, ahead: int) -> None:
        self.looked_up: list[str] = []
        self.written: list[str] = []
        self._wait_for = f"G{(gated_batch + ahead) * batch_size:03d}"
        self._seen = asyncio.Event()

    async def lookup(self, store: GraphStore, rows: list[Row]) -> list[Found]:
        self.looked_up.append(rows[0]["id"])
        if rows[0]["id"] == self._wait_for:
            self._seen.set()
        return await lookup_customers(store, rows)

    async def upsert(self, store: GraphStore, rows: list[Row]) -> int:
        if any(r["gated"] for r in rows) and not self._seen.is_set():
            await asyncio.wait_for(self._seen.wait(), timeout=30)
        result = await store.write(GATED_UPSERT, {"rows": rows})
        self.written.append(rows[0]["id"])
        return int(result[0]["n"])

    def kinds(self) -> dict[str, ImportKind]:
        return {"gated": ImportKind(GatedRecord, self.upsert, lookup=self.lookup)}


def _write_file(path: Path, rows: int, gated: int, tag: str = "a") -> None:
    lines = ["id,gated,tag"]
    lines += [f"G{i:03d},{'true' if i == gated else 'false'},{tag}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _writes(store: GraphStore) -> list[Row]:
    return await store.read("MATCH (c:Customer) RETURN c.writes AS w, count(c) AS n ORDER BY w")


async def test_failed_batch_stops_at_last_written_batch_and_rerun_completes(
    store: GraphStore, tmp_path: Path
) -> None:
    cp, path = tmp_path / "cp.json", tmp_path / "gated.csv"
    _write_file(path, rows=100, gated=45)  # batch 4 of 10 fails
    await store.write("CREATE (:Gate {open: 0})")
    first = Recorder(gated_batch=4, batch_size=10, ahead=QUEUE_DEPTH)

    with pytest.raises(ImportInterrupted, match="after 40 records") as info:
        await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                          kinds=first.kinds())  # fmt: skip
    # The pipeline had looked up the batches behind the failing one...
    assert first.looked_up[: 5 + QUEUE_DEPTH] == [f"G{b * 10:03d}" for b in range(5 + QUEUE_DEPTH)]
    # ...but wrote none of them: batches 0-3 in order, then the failed one stopped the writer.
    assert first.written == ["G000", "G010", "G020", "G030"]
    assert info.value.committed == 40
    state = Checkpoint(cp).get(checkpoint_key("gated", path))
    assert (state["committed"], state["line"]) == (40, 41)
    assert await _writes(store) == [{"w": 1, "n": 40}]

    await store.write("MATCH (g:Gate) SET g.open = 4")
    again = Recorder(gated_batch=4, batch_size=10, ahead=0)
    summary = await import_file(store, "gated", path, batch_size=25, checkpoint_path=cp,
                                kinds=again.kinds())  # fmt: skip
    assert (summary.read, summary.resumed_after, summary.inserted, summary.unchanged) == (
        100, 40, 60, 40)  # fmt: skip
    assert again.written[0] == "G040"  # resumed at the checkpoint, another batch size
    assert await _writes(store) == [{"w": 1, "n": 100}]  # every row written exactly once
    assert Checkpoint(cp).get(checkpoint_key("gated", path)) is None


async def test_failure_in_the_last_batch_is_reported_when_the_import_settles(
    store: GraphStore, tmp_path: Path
) -> None:
    cp, path = tmp_path / "cp.json", tmp_path / "gated.csv"
    _write_file(path, rows=50, gated=47)  # the last of 5 batches fails
    await store.write("CREATE (:Gate {open: 0})")
    first = Recorder(gated_batch=4, batch_size=10, ahead=0)

    with pytest.raises(ImportInterrupted, match="after 40 records") as info:
        await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                          kinds=first.kinds())  # fmt: skip
    assert info.value.committed == 40
    state = Checkpoint(cp).get(checkpoint_key("gated", path))
    assert (state["committed"], state["line"]) == (40, 41)
    assert await _writes(store) == [{"w": 1, "n": 40}]

    await store.write("MATCH (g:Gate) SET g.open = 4")
    summary = await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                                kinds=Recorder(4, 10, 0).kinds())  # fmt: skip
    assert (summary.read, summary.resumed_after, summary.inserted) == (50, 40, 10)
    assert await _writes(store) == [{"w": 1, "n": 50}]


async def test_rerun_of_a_written_file_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    """Batches looked up ahead of the write see the graph as it was: a second run of the same
    file finds every row stored and unchanged, and writes none (no duplicate, no rewrite)."""
    path = tmp_path / "gated.csv"
    _write_file(path, rows=60, gated=-1)
    done = await import_file(store, "gated", path, batch_size=7,
                             kinds=Recorder(0, 7, 0).kinds())  # fmt: skip
    assert (done.read, done.inserted) == (60, 60)
    again = Recorder(0, 7, 0)
    summary = await import_file(store, "gated", path, batch_size=7, kinds=again.kinds())
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, 60)
    assert again.written == []
    _write_file(path, rows=60, gated=-1, tag="b")  # now every row changes
    changed = Recorder(0, 7, 0)
    summary = await import_file(store, "gated", path, batch_size=7, kinds=changed.kinds())
    assert summary.updated == 60
    assert await _writes(store) == [{"w": 2, "n": 60}]


async def test_lookup_failure_stops_the_writer_with_an_exact_checkpoint(
    store: GraphStore, tmp_path: Path
) -> None:
    """The import stops for a reason of its own (here a failed lookup) while writes are queued:
    the writer is stopped, the checkpoint holds only batches whose write returned, and the
    re-run writes each remaining row once."""
    cp, path = tmp_path / "cp.json", tmp_path / "gated.csv"
    _write_file(path, rows=80, gated=-1)
    broken = Recorder(0, 10, 0)
    real_lookup = broken.lookup

    async def failing_lookup(store: GraphStore, rows: list[Row]) -> list[Found]:
        if rows[0]["id"] == "G050":
            await store.read("RETURN toInteger($x) + 1", {"x": [1]})  # the graph rejects it
        return await real_lookup(store, rows)

    broken.lookup = failing_lookup  # type: ignore[method-assign]
    with pytest.raises(GraphError):
        await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                          kinds=broken.kinds())  # fmt: skip
    committed = Checkpoint(cp).get(checkpoint_key("gated", path))["committed"]
    assert committed % 10 == 0 and committed <= 50
    assert committed == 10 * len(broken.written)  # every recorded write, and only those
    (stored,) = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    assert stored["n"] == committed

    again = Recorder(0, 10, 0)
    summary = await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                                kinds=again.kinds())  # fmt: skip
    assert (summary.read, summary.resumed_after) == (80, committed)
    assert await _writes(store) == [{"w": 1, "n": 80}]
