"""Session 17 on `c360 import`: an interaction moved to another customer by a row without a
summary keeps its summary (re-sealed under the new customer's key, or reported when the old
key is gone); ids of one input that differ only in case are reported. Real embedded FalkorDB,
real field encryption."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from graph.fieldcipher import cipher_of
from graph.repositories.customer360 import interaction_pages
from graph.repositories.customers import backfill_id_keys
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.kinds import import_case_conflict

WITH_SUMMARY = "id,customerId,channel,kind,time,summary\n"
WITHOUT_SUMMARY = "id,customerId,channel,kind,time\n"


async def _summaries(store: GraphStore, customer: str) -> dict[str, Any]:
    """The customer's interactions as the 360 reads them: id -> summary."""
    pages = await interaction_pages(store, [customer], limit=50, after=None, kind=None)
    page = pages.get(customer)
    return {item["id"]: item.get("summary") for item in (page.items if page else [])}


async def _stored_summary(store: GraphStore, interaction: str) -> Any:
    rows = await store.read(
        "MATCH (i:Interaction {id: $id}) RETURN i.summary AS s", {"id": interaction}
    )
    return rows[0]["s"]


# --- 1. an interaction moved without its summary column ------------------------------------


async def test_an_interaction_moved_without_a_summary_column_keeps_its_summary(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    store = sealed_store
    await store.write("CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'Q2'})")
    first = tmp_path / "with.csv"
    first.write_text(
        WITH_SUMMARY
        + "I1,Q1,PHONE,INQUIRY,2025-02-01 10:00,问余额\n"
        + "I2,Q1,CHAT,COMPLAINT,2025-02-02 10:00,投诉手续费\n"
        + "I3,Q1,CHAT,INQUIRY,2025-02-03 10:00,留在原客户\n"
    )
    assert (await import_file(store, "interactions", first)).inserted == 3
    # The core system rebooked two of them to Q2; this export has no summary column.
    second = tmp_path / "without.csv"
    second.write_text(
        WITHOUT_SUMMARY
        + "I1,Q2,PHONE,INQUIRY,2025-02-01 10:00\n"
        + "I2,Q2,CHAT,COMPLAINT,2025-02-02 10:00\n"
        + "I3,Q1,CHAT,INQUIRY,2025-02-03 10:00\n"
    )
    reads = 0
    read = store.read

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await read(*args, **kwargs)

    store.read = counted  # type: ignore[method-assign]
    try:
        summary = await import_file(store, "interactions", second)
    finally:
        del store.read  # the instance attribute: the class's method again
    assert (summary.updated, summary.unchanged, summary.rejected) == (2, 1, 0)
    assert (summary.unreadable_moved, summary.warnings) == (0, [])
    # Batched: the batch's lookup and its parent check, no read per moved row.
    assert reads == 2
    assert await _summaries(store, "Q2") == {"I1": "问余额", "I2": "投诉手续费"}
    assert await _summaries(store, "Q1") == {"I3": "留在原客户"}
    # Sealed at rest under the new customer's key (not a plain copy).
    assert str(await _stored_summary(store, "I1")).startswith("enc1:")
    # Importing the same file again changes nothing.
    again = await import_file(store, "interactions", second)
    assert (again.updated, again.unchanged) == (0, 3)


async def test_a_moved_summary_whose_old_key_is_gone_stays_unreadable_and_is_reported(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    store = sealed_store
    await store.write("CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'Q2'})")
    first = tmp_path / "with.csv"
    first.write_text(WITH_SUMMARY + "I1,Q1,PHONE,INQUIRY,2025-02-01 10:00,问余额\n")
    await import_file(store, "interactions", first)
    sealed = await _stored_summary(store, "I1")
    assert cipher_of(store).destroy("Customer", "Q1")  # Q1 erased: their key shredded
    second = tmp_path / "without.csv"
    second.write_text(WITHOUT_SUMMARY + "I1,Q2,PHONE,INQUIRY,2025-02-01 10:00\n")
    summary = await import_file(store, "interactions", second)
    assert (summary.updated, summary.unreadable_moved, summary.warnings_total) == (1, 1, 1)
    (warning,) = summary.warnings
    assert warning.startswith(
        "line 2: summary not moved to customerId Q2: it cannot be opened under Q1's key"
    )
    assert "give the summary column" in warning
    # Moved, not re-sealed from nothing: the stored value is the old one, and reads as null.
    assert await _summaries(store, "Q2") == {"I1": None}
    assert await _stored_summary(store, "I1") == sealed
    assert summary.to_dict()["unreadable_moved"] == 1


async def test_a_moving_row_with_a_summary_column_stores_the_given_summary(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    # The row's own value wins over the stored one (an empty cell is "not given": kept).
    store = sealed_store
    await store.write("CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'Q2'})")
    first = tmp_path / "with.csv"
    first.write_text(
        WITH_SUMMARY
        + "I1,Q1,PHONE,INQUIRY,2025-02-01 10:00,旧的\n"
        + "I2,Q1,PHONE,INQUIRY,2025-02-01 11:00,旧的二\n"
    )
    await import_file(store, "interactions", first)
    second = tmp_path / "moved.csv"
    second.write_text(
        WITH_SUMMARY
        + "I1,Q2,PHONE,INQUIRY,2025-02-01 10:00,新的\n"
        + "I2,Q2,PHONE,INQUIRY,2025-02-01 11:00,\n"
    )
    summary = await import_file(store, "interactions", second)
    assert (summary.updated, summary.unreadable_moved) == (2, 0)
    found = await _summaries(store, "Q2")
    assert found["I1"] == "新的"
    assert found["I2"] == "旧的二"


# --- 2. ids that differ only in case ----------------------------------------------------------


async def test_customer_ids_that_differ_only_in_case_keep_the_first_spelling(
    store: GraphStore, tmp_path: Path
) -> None:
    # The QA file: C001 and c001 with the same ID number, a quoted two-line address between
    # them (line numbers are the file's physical lines). Session 22: customer ids are
    # compared without case, so the later spelling is refused as it would be once the first
    # is stored (ID_CASE_CONFLICT), naming the line of the first; before, both were imported.
    path = tmp_path / "twins.csv"
    path.write_text(
        "id,name,idNumber,address\n"
        "C001,张伟,110105198503121234,\n"
        'C002,李娜,,"上海市\n浦东新区"\n'
        "c001,张伟,110105198503121234,\n"
        "12345,王芳,,\n"
        "12345,王芳,,\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.duplicates, summary.rejected) == (3, 1, 1)
    assert (summary.case_twins, summary.warnings_total) == (0, 0)
    (dead,) = [orjson.loads(x) for x in (tmp_path / "twins.dead.jsonl").read_bytes().splitlines()]
    assert (dead["line"], dead["reasons"]) == (5, [import_case_conflict("C001", 2)])
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["12345", "C001", "C002"]


async def test_case_twins_of_a_two_field_key_are_reported_and_same_case_keys_are_not(
    store: GraphStore, tmp_path: Path
) -> None:
    await store.write("CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'q1'})")
    path = tmp_path / "members.csv"
    path.write_text("id,customerId,role\nH1,Q1,HEAD\nH2,Q1,HEAD\nh1,q1,SPOUSE\n")
    summary = await import_file(store, "households", path, batch_size=1)
    assert summary.case_twins == 1
    # (Besides: Q1 in two households, H1 and H2, is warned of since session 26.)
    (warning,) = [w for w in summary.warnings if "differ only in case" in w]
    assert warning.startswith("lines 2 and 4: keys H1 / Q1 and h1 / q1 differ only in case")
    # Same-case keys are duplicates, not twins; ids without letters have no case.
    same = tmp_path / "same.csv"
    same.write_text("id,name\nC7,a\nC7,b\n007,c\n007,d\n")
    again = await import_file(store, "customers", same)
    assert (again.duplicates, again.case_twins, again.warnings) == (2, 0, [])


async def test_case_twins_are_told_once_for_what_was_imported(
    store: GraphStore, tmp_path: Path
) -> None:
    # Review, session 17: alternating spellings were told three times, naming superseded
    # lines; a pair with a rejected side was "imported as two records". (Advisors: customer
    # ids are one whatever their case since session 22, the later spelling a dead letter.)
    path = tmp_path / "alternating.csv"
    path.write_text(
        "id,name,email\nA001,a,\na001,b,\nA001,c,\na001,d,\nD001,e,\nd001,f,not an email\n"
    )
    summary = await import_file(store, "advisors", path)
    assert (summary.inserted, summary.duplicates, summary.rejected) == (3, 2, 1)
    assert summary.case_twins == 1
    (warning,) = summary.warnings
    assert warning.startswith("lines 4 and 5: keys A001 and a001 differ only in case")
    # A platform's name is lower-cased by validation: one link, written twice, no twins.
    await store.write("CREATE (:Customer {id: 'K1'})")
    links = tmp_path / "links.csv"
    links.write_text("customerId,platform,handle\nK1,weibo,alice\nK1,Weibo,alice\n")
    linked = await import_file(store, "social-accounts", links)
    assert (linked.rejected, linked.case_twins, linked.warnings) == (0, 0, [])


async def test_a_case_twin_the_writer_refused_is_not_told_as_imported(
    store: GraphStore, tmp_path: Path
) -> None:
    # QA, session 21 (imp/twins.csv): line 4 went to the dead letters as the case twin of the
    # stored C900001, yet the warning said lines 3 and 4 were "imported as two records".
    await store.write("CREATE (:Customer {id: 'C900001', name: 'x'})")
    await backfill_id_keys(store)  # written without its idKey: as an older c360 stored it
    path = tmp_path / "twins.csv"
    path.write_text("id,name\nC900002,a\nC900001 ,b\nc900001,c\n", encoding="utf-8")
    summary = await import_file(store, "customers", path)
    assert (summary.rejected, summary.case_twins, summary.warnings) == (1, 0, [])


async def test_customer_ids_with_invisible_or_full_width_characters_are_dead_letters(
    store: GraphStore, tmp_path: Path
) -> None:
    # QA, session 21: Ｃ900001 and C９00001 were inserted beside C900001, twins that look the
    # same; ids with zero-width or bidi characters too. One rule with upsertCustomer's.
    path = tmp_path / "ids.csv"
    path.write_text(
        "id,name\nC900001,a\n Ｃ900001,b\nC９00001,c\nC900001\u200b,d\n\u202eC900001,e\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.rejected) == (1, 4)
    letters = [orjson.loads(x) for x in (tmp_path / "ids.dead.jsonl").read_bytes().splitlines()]
    assert [letter["line"] for letter in letters] == [3, 4, 5, 6]
    reasons = [letter["reasons"][0] for letter in letters]
    assert all(r.startswith("id: contains a full-width") for r in reasons[:2]), reasons
    assert all(r.startswith("id: contains an invisible") for r in reasons[2:]), reasons
    households = tmp_path / "hh.csv"
    households.write_text("id,name\nH１,a\nH2,b\n", encoding="utf-8")
    done = await import_file(store, "households", households)
    assert (done.inserted, done.rejected) == (1, 1)
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert [r["id"] for r in rows] == ["C900001"]
