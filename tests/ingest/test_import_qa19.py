"""QA round 19: a CRM import resumed after a failure keeps the dead letters of the batches it
committed, missing parents included (they are not looked up again), and says how many the
file holds in all."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from graph.store import GraphStore, Row
from ingest.crm import KINDS, ImportInterrupted, ImportKind, import_file
from ingest.summary import ImportSummary
from tests.ingest.test_crm import GatedRecord, upsert_gated


async def lookup_orphans(_store: GraphStore, rows: list[Row]) -> list[Row]:
    # An id starting with M names a parent that is not there (a dead letter at lookup time).
    return [{"missing": ["id"]} if str(r["id"]).startswith("M") else {} for r in rows]


async def resumed_gated_import(store: GraphStore, tmp_path: Path, *more: str) -> ImportSummary:
    """A file of 40 gated rows (three with a missing parent, M..., two with a gate that is no
    bool, "maybe"), then ``more`` rows, imported in batches of 10 until the gate stops it
    after 20 records, then again (resumed) with the gate open."""
    kinds = {**KINDS, "gated": ImportKind(GatedRecord, upsert_gated, lookup=lookup_orphans)}
    rows = []
    for i in range(40):
        key = f"M{i:03d}" if i in (3, 15, 30) else f"G{i:03d}"
        gated = {25: "true", 5: "maybe", 33: "maybe"}.get(i, "false")
        rows.append(f"{key},{gated}")
    path, cp = tmp_path / "gated.csv", tmp_path / "cp.json"
    path.write_text("\n".join(["id,gated", *rows, *more]) + "\n", encoding="utf-8")
    await store.write("CREATE (:Gate {open: 0})")
    with pytest.raises(ImportInterrupted, match="after 20 records"):
        await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp, kinds=kinds)
    await store.write("MATCH (g:Gate) SET g.open = 4")
    summary = await import_file(
        store, "gated", path, batch_size=10, checkpoint_path=cp, kinds=kinds
    )
    assert summary.resumed_after == 20
    return summary


async def test_a_resumed_import_keeps_its_dead_letters_up_to_the_checkpoint(
    store: GraphStore, tmp_path: Path
) -> None:
    summary = await resumed_gated_import(store, tmp_path)
    dead = [orjson.loads(x) for x in (tmp_path / "gated.dead.jsonl").read_bytes().splitlines()]
    # Record i is on line i + 2: each dead letter once, those before the checkpoint kept
    # (a batch lists its invalid rows, then its missing parents).
    assert sorted(d["line"] for d in dead) == [5, 7, 17, 32, 35]
    assert (summary.rejected, summary.rejected_total) == (2, 5)
    assert summary.dead_letter_path == tmp_path / "gated.dead.jsonl"


async def test_a_resumed_imports_figures_add_up_to_what_was_read(
    store: GraphStore, tmp_path: Path
) -> None:
    """The skipped part's rows the earlier run dead-lettered at lookup time (missing parents)
    are rejected ones, not unchanged (QA: unchanged and imported overcounted by them)."""
    # A duplicate of a key of the committed part: the last one wins.
    summary = await resumed_gated_import(store, tmp_path, "G010,false")
    assert (summary.read, summary.rejected_total, summary.duplicates) == (41, 5, 1)
    assert summary.read == summary.imported + summary.rejected_total + summary.duplicates
    # Of the 20 committed: 1 invalid, 2 missing parents, G010 a duplicate; 16 imported then.
    assert summary.imported == 16 + 19
