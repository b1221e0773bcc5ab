"""Session 22 on customer ids that differ only by case: found by the stored case-folded key
(``idKey``) in any mix of cases, not only in the five spellings looked up before; two new
spellings in one import are one customer (the later a dead letter); customers stored without
the key get it when the graph opens; a bare customer of --create-missing has it. Real
embedded FalkorDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.repositories.customers import backfill_id_keys, case_twins, upsert_customers
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.kinds import case_conflict, import_case_conflict
from tests.dead_letters import dead_letters


async def test_a_twin_of_any_mixed_case_is_a_dead_letter(store: GraphStore, tmp_path: Path) -> None:
    # None of the five spellings the lookup tried before (upper, lower, case-folded,
    # capitalised, swapped) of aB-cd is the stored Ab-Cd.
    await upsert_customers(store, [{"id": "Ab-Cd", "props": {"name": "x"}}])
    path = tmp_path / "twins.csv"
    path.write_text("id,name\naB-cd,y\nAb-Cd,z\nAB-CD,w\n", encoding="utf-8")
    summary = await import_file(store, "customers", path)
    assert (summary.rejected, summary.updated, summary.inserted) == (2, 1, 0)
    dead = dead_letters(tmp_path / "twins.dead.jsonl")
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (2, [case_conflict("Ab-Cd")]),
        (4, [case_conflict("Ab-Cd")]),
    ]
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert [r["id"] for r in rows] == ["Ab-Cd"]


@pytest.mark.parametrize(("batch_size", "dry_run"), [(5000, False), (1, False), (5000, True)])
async def test_two_new_spellings_in_one_import_make_one_customer(
    store: GraphStore, tmp_path: Path, batch_size: int, dry_run: bool
) -> None:
    # One batch (looked up before either is written), one row a batch (the next batch is
    # looked up while the writer still has the one before), and a dry run (nothing written).
    path = tmp_path / "new.csv"
    path.write_text("id,name\nXy-Z9,a\nN1,b\nxY-z9,c\nXY-Z9,d\n", encoding="utf-8")
    summary = await import_file(store, "customers", path, batch_size=batch_size, dry_run=dry_run)
    assert (summary.inserted, summary.rejected, summary.case_twins) == (2, 2, 0)
    assert summary.warnings == []
    if dry_run:
        assert summary.rejected_first == [
            f"line {n}: {import_case_conflict('Xy-Z9', 2)}" for n in (4, 5)
        ]
        return
    # Refused as the twin of line 2, or of the stored Xy-Z9 when the writer wrote it before
    # the lookup of the later row's batch (one row a batch).
    either = ([import_case_conflict("Xy-Z9", 2)], [case_conflict("Xy-Z9")])
    dead = dead_letters(tmp_path / "new.dead.jsonl")
    assert [d["line"] for d in dead] == [4, 5]
    assert all(d["reasons"] in either for d in dead), dead
    if batch_size > 1:
        assert {str(d["reasons"]) for d in dead} == {str(either[0])}
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["N1", "Xy-Z9"]


async def test_customers_stored_without_the_key_are_given_it_and_found(store: GraphStore) -> None:
    # As an older c360 (or a copy from elsewhere) stored them: every open of the graph fills
    # the key in (graph.connect.open_store), once.
    await store.write("CREATE (:Customer {id: 'Ab-Cd-1'}), (:Customer {id: 'Straße-2'})")
    assert await case_twins(store, ["aB-cd-1"]) == {}
    assert await backfill_id_keys(store) == 2
    assert await backfill_id_keys(store) == 0
    assert await case_twins(store, ["aB-cd-1", "STRASSE-2", "Ab-Cd-1", "new"]) == {
        "aB-cd-1": "Ab-Cd-1",
        "STRASSE-2": "Straße-2",  # case-folded, as the erasure ledger compares ids
    }


async def test_a_bare_customer_made_by_create_missing_has_the_key(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "acc.csv"
    path.write_text("id,customerId,balance\nA1,Pq-Rs,1.00\n", encoding="utf-8")
    summary = await import_file(store, "accounts", path, create_missing=True)
    assert (summary.inserted, summary.rejected) == (1, 0)
    assert await case_twins(store, ["pQ-rS"]) == {"pQ-rS": "Pq-Rs"}
    missing = await store.read("MATCH (c:Customer) WHERE c.idKey IS NULL RETURN c.id AS id")
    assert missing == []
