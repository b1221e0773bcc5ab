"""A backup taken while an import runs, once restored, re-runs that import without losing rows:
the import checkpoints in the archive never claim more than its graph snapshot holds (QA: a
checkpoint copied after the snapshot skipped 111 731 transactions that the snapshot lacked)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import orjson
import pytest

from graph.connect import open_store
from graph.store import GraphStore, Row
from hub.backup import make_backup, restore_backup
from hub.sealed import Secret
from ingest.crm import KINDS, ImportKind, import_file
from ingest.records import ImportRecord

SECRET = Secret(passphrase=b"correct horse battery staple")
ROWS, BATCH = 100, 10


class StepRecord(ImportRecord):
    id: str

    def to_graph_row(self) -> Row:
        return {"id": self.id}


def _committed(path: Path) -> int:
    try:
        data = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return 0
    return max((int(v.get("committed", 0)) for v in data.values()), default=0)


async def _write(store: GraphStore, rows: list[Row]) -> int:
    result = await store.write(
        "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) RETURN count(c) AS n", {"rows": rows}
    )
    return int(result[0]["n"])


@pytest.fixture
def graph_socket(session_data_dir: Path) -> Path:
    if os.environ.get("C360_TEST_GRAPH_URL"):
        pytest.skip("backs up the embedded graph; this run uses an external one")
    return session_data_dir / "falkordb" / "falkordb.sock"


async def test_a_backup_during_an_import_restores_checkpoints_the_snapshot_holds(
    store: GraphStore, graph_socket: Path, short_dir: Path
) -> None:
    source = short_dir / "src"
    source.mkdir()
    checkpoints = source / "checkpoints" / "imports.json"
    path = short_dir / "steps.csv"
    path.write_text("id\n" + "".join(f"S{i:03d}\n" for i in range(ROWS)), encoding="utf-8")

    # Each batch waits for a step of the backup: the import advances by one committed batch
    # before every stage of it (between the snapshot and the copy of the checkpoints too).
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(0)

    async def stepped(store: GraphStore, rows: list[Row]) -> int:
        await gate.acquire()
        return await _write(store, rows)

    kinds = {**KINDS, "steps": ImportKind(StepRecord, stepped)}
    run = import_file(store, "steps", path, batch_size=BATCH, checkpoint_path=checkpoints,
                      kinds=kinds)  # fmt: skip
    importing = asyncio.create_task(run)
    steps: list[str] = []

    def advance(step: str) -> None:
        steps.append(step)
        before = _committed(checkpoints)
        loop.call_soon_threadsafe(gate.release)
        deadline = time.monotonic() + 30
        while _committed(checkpoints) == before:
            assert time.monotonic() < deadline, f"the import did not advance at {step!r}"
            time.sleep(0.01)

    await asyncio.to_thread(advance, "before the backup")  # a checkpoint is there to copy

    archive = short_dir / "b.c360bak"
    try:
        summary = await asyncio.to_thread(
            make_backup, source, archive, SECRET, graph_socket=graph_socket, progress=advance
        )
    finally:
        for _ in range(ROWS):
            gate.release()
        await importing
    assert len(steps) >= 4, steps
    assert summary.graph is not None

    target = short_dir / "r"
    restore_backup(archive, target, SECRET)
    restored_cp = target / "checkpoints" / "imports.json"
    restored = await open_store(target, "")
    try:
        (held,) = await restored.read("MATCH (c:Customer) RETURN count(c) AS n")
        claimed = _committed(restored_cp)
        assert 0 < claimed <= held["n"] < ROWS, (claimed, held["n"])

        kinds = {**KINDS, "steps": ImportKind(StepRecord, _write)}
        rerun = await import_file(restored, "steps", path, batch_size=BATCH,
                                  checkpoint_path=restored_cp, kinds=kinds)  # fmt: skip
        (after,) = await restored.read("MATCH (c:Customer) RETURN count(c) AS n")
        assert after["n"] == ROWS, rerun
        assert rerun.resumed_after == claimed
    finally:
        await restored.close()
