"""Session 26 (QA): imports that a KYC review wants to hear of, taken silently before. One
national ID number on two customers, a gender the ID's 17th digit contradicts, a customer in
two households and a household with two heads: imported as given, each line warned of in the
summary. The README's examples do none of it. Real embedded FalkorDB, the real import."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.store import GraphStore
from hub.cli.imports import print_summary
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from tests.inputs import import_steps, input_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"


async def test_a_shared_id_number_and_a_contradicting_gender_are_warned_of(
    store: GraphStore, tmp_path: Path
) -> None:
    first = "id,name,gender,idNumber\nK1,张伟,M,110105198503121234\n"
    assert (
        await import_file(store, "customers", input_file(tmp_path, "a.csv", first))
    ).warnings == []
    rows = (
        "id,name,gender,idNumber\nK2,孙丽,F,110105198503121234\n"  # K1's number, odd digit
        "K3,周杰,M,110105198806123421\nK4,李娜,F,110105198806123421\n"  # even: female
        "K5,王芳,F,\n"
    )
    summary = await import_file(store, "customers", input_file(tmp_path, "b.csv", rows))
    assert (summary.inserted, summary.rejected) == (4, 0)  # warned, never refused
    # Before the fix: no warning at all.
    assert summary.warnings == [
        "line 2: gender disagrees with the ID number, whose 17th digit says male; imported as "
        "given: check both in the source system",
        "line 2: idNumber is also stored for customer K1; one ID number is one person: merge "
        "the two customers or fix the number",
        "line 3: gender disagrees with the ID number, whose 17th digit says female; imported as "
        "given: check both in the source system",
        "line 4: idNumber is also customer K3's, on line 3 of this import; one ID number is one "
        "person: merge the two customers or fix the number",
    ]
    # A gender alone is judged against the stored number; the same file again: K1 alone.
    again = await import_file(
        store, "customers", input_file(tmp_path, "c.csv", "id,gender\nK1,F\n")
    )
    assert [w.split(";")[0] for w in again.warnings] == [
        "line 2: gender disagrees with the ID number, whose 17th digit says male"
    ]


async def test_the_readme_examples_raise_no_identity_warning(store: GraphStore) -> None:
    await import_file(store, "advisors", EXAMPLES / "advisors.csv")
    customers = await import_file(store, "customers", EXAMPLES / "customers.csv")
    mapping = ColumnMapping.load(EXAMPLES / "legacy_customers.toml")
    legacy = await import_file(store, "customers", EXAMPLES / "legacy_customers.csv", mapping)
    # Before: L0001 held C900001's number, L0002 C900002's, and three genders disagreed.
    assert (customers.warnings, legacy.warnings) == ([], [])


async def test_two_households_for_one_customer_and_two_heads_are_warned_of(
    store: GraphStore, tmp_path: Path
) -> None:
    first = "id,name,customerId,role\nHH0,老家,Q12,HEAD\n"
    rows = (
        "id,name,customerId,role\nHH1,王家,Q10,HEAD\nHH2,李家,Q10,CHILD\nHH1,王家,Q11,HEAD\n"
        "HH0,老家,Q11,HEAD\n"
    )
    summary = await import_steps(
        store, tmp_path, ("customers", "id\nQ10\nQ11\nQ12\n"), ("households", first),
        ("households", rows),
    )  # fmt: skip
    assert summary.rejected == 0
    # Before the fix: no warning; the 360 view showed Q10 in HH1 only.
    assert summary.warnings == [
        "line 3: customer Q10 is also a member of household HH1 (line 2 of this import); the "
        "360 view shows one household per customer: keep one membership in the export",
        "line 4: household HH1 has another HEAD, customer Q10 (line 2 of this import); one "
        "head per household: give the other one another role",
        "line 5: customer Q11 is also a member of household HH1 (line 4 of this import); the "
        "360 view shows one household per customer: keep one membership in the export",
        "line 5: household HH0 has another HEAD, customer Q12 (stored); one head per "
        "household: give the other one another role",
    ]


async def test_a_repeated_key_whose_last_row_is_rejected_is_not_said_imported(
    store: GraphStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = (
        "id,name,phone\nU1,甲,13812345670\nU1,甲,13812345671\nU3,丙,13812345672\n"
        "U3,丙,13812345673\nU3,丙,12345\n"  # U3's last row: a bad phone
    )
    path = input_file(tmp_path, "dups.csv", rows)
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.duplicates, summary.rejected) == (1, 3, 1)
    assert summary.duplicates_rejected == 1
    print_summary("customers", path.name, summary)
    out = " ".join(capsys.readouterr().out.split())
    # Before the fix: "... the last row of each key was imported." (U3 was not at all.)
    assert (
        "3 row(s) repeated a key found again later in the input: the last row of each key was "
        "imported, except for 1 key(s) whose last row was rejected: nothing imported for them "
        "(see the dead letters)." in out
    )
