"""A customers file that gives birthDate without idNumber, for a customer whose ID number is
on record: a date the ID contradicts is a dead letter (the ID fixes the birth date), the ID's
own date is taken, the rest of the file imports. QA: `id,idNumber` then `id,birthDate` stored
a birth date the ID contradicts. Real embedded FalkorDB, real field encryption (the stored ID
number is sealed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.fieldcipher import cipher_of
from graph.repositories.imports import lookup_customers
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.kinds import BIRTH_DATE_DISAGREES
from tests.dead_letters import dead_letters


async def _stored(store: GraphStore, *ids: str) -> dict[str, dict[str, Any]]:
    """id -> (birthDate, idNumber) as stored, opened."""
    found = await lookup_customers(store, [{"id": i} for i in ids])
    return {
        i: {k: f["props"].get(k) for k in ("birthDate", "idNumber")}
        for i, f in zip(ids, found, strict=True)
    }


async def test_a_birth_date_row_without_the_id_number_on_record_is_a_dead_letter(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    store = sealed_store
    ids = tmp_path / "ids.csv"
    ids.write_text(
        "id,idNumber,name\n"
        "Q100002,110105198503121234,\n"
        "Q100003,320106198111287222,\n"
        "Q100004,,王五\n"  # no ID number on record
    )
    assert (await import_file(store, "customers", ids)).inserted == 3
    dates = tmp_path / "dates.csv"
    dates.write_text(
        "id,birthDate\n"
        "Q100002,1999-09-09\n"  # QA's row: contradicts the ID
        "Q100003,1981-11-28\n"  # the ID's own date: taken (unchanged)
        "Q100004,1999-09-09\n"  # no ID number on record: written
        "Q100005,1990-01-01\n"  # a new customer: written
    )
    summary = await import_file(store, "customers", dates)
    assert (summary.rejected, summary.unchanged, summary.updated, summary.inserted) == (1, 1, 1, 1)
    letters = dead_letters(tmp_path / "dates.dead.jsonl")
    assert [(d["line"], d["reasons"]) for d in letters] == [(2, [BIRTH_DATE_DISAGREES])]
    assert summary.rejected_first[0] == f"line 2: {BIRTH_DATE_DISAGREES}"
    assert await _stored(store, "Q100002", "Q100003", "Q100004", "Q100005") == {
        "Q100002": {"birthDate": "1985-03-12", "idNumber": "110105198503121234"},
        "Q100003": {"birthDate": "1981-11-28", "idNumber": "320106198111287222"},
        "Q100004": {"birthDate": "1999-09-09", "idNumber": None},
        "Q100005": {"birthDate": "1990-01-01", "idNumber": None},
    }
    # With idNumber in the row the two are checked together; an ID alone brings its date.
    both = tmp_path / "both.csv"
    both.write_text(
        "id,idNumber,birthDate\n"
        "Q100002,31011519721030004X,1972-10-30\n"
        "Q100003,44030119900704511X,\n"
        "Q100004,110105198506150022,1999-09-09\n"  # disagree: the model's own check
    )
    summary = await import_file(store, "customers", both)
    assert (summary.rejected, summary.updated) == (1, 2)
    assert dead_letters(tmp_path / "both.dead.jsonl")[0]["reasons"] == [
        "birthDate: does not match the birth date in idNumber"
    ]
    assert await _stored(store, "Q100002", "Q100003") == {
        "Q100002": {"birthDate": "1972-10-30", "idNumber": "31011519721030004X"},
        "Q100003": {"birthDate": "1990-07-04", "idNumber": "44030119900704511X"},
    }


async def test_an_id_number_stored_but_unreadable_still_counts_as_on_record(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    # Fail closed: the customer's key is gone, so the stored ID opens to nothing, but it is
    # there; a birth date beside it would still contradict it.
    store = sealed_store
    ids = tmp_path / "ids.csv"
    ids.write_text("id,idNumber\nQ200001,110105198503121234\n")
    await import_file(store, "customers", ids)
    assert cipher_of(store).destroy("Customer", "Q200001")
    dates = tmp_path / "dates.csv"
    dates.write_text("id,birthDate\nQ200001,1999-09-09\n")
    summary = await import_file(store, "customers", dates)
    assert (summary.rejected, summary.updated) == (1, 0)
    assert dead_letters(tmp_path / "dates.dead.jsonl")[0]["reasons"] == [BIRTH_DATE_DISAGREES]
