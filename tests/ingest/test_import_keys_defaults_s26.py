"""Session 26 (QA), three import rules. A mapping's [defaults] reset the stored risk profile
and consents of every customer a partial-update file named; --create-missing made customers
whose ids every other path refuses (case twins within one input, full-width, invisible
characters); transactions numbered per account (ids 1, 2 on two accounts) lost one account's
rows as "duplicates". Real embedded FalkorDB, the real import."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from tests.dead_letters import dead_letters
from tests.inputs import import_steps, input_file


async def test_defaults_fill_new_records_and_never_overwrite_stored_ones(
    store: GraphStore, tmp_path: Path
) -> None:
    first = "id,name,riskProfile,occupation,consentMarketing\nV1,王五,激进,医生,否\n"
    await import_file(store, "customers", input_file(tmp_path, "a.csv", first))
    defaults = {"riskProfile": "稳健", "occupation": "未知", "consentMarketing": True}
    mapping = ColumnMapping.from_dict({"defaults": defaults})
    # V1 stored: only its phone changes; V2 new: the defaults fill it (an empty cell too).
    refresh = "id,phone,occupation\nV1,13812345678,\nV2,13812345679,\n"
    summary = await import_file(
        store, "customers", input_file(tmp_path, "b.csv", refresh), mapping=mapping
    )
    assert (summary.updated, summary.inserted, summary.rejected) == (1, 1, 0)
    rows = await store.read(
        "MATCH (c:Customer) RETURN c.id AS id, c.riskProfile AS r, c.consentMarketing AS m "
        "ORDER BY id"
    )
    # Before the fix: V1 稳健 and consent true (the refused marketing consent granted).
    assert [(r["id"], r["r"], r["m"]) for r in rows] == [
        ("V1", "激进", False),
        ("V2", "稳健", True),
    ]


async def test_create_missing_refuses_ids_the_key_rule_refuses_and_in_input_twins(
    store: GraphStore, tmp_path: Path
) -> None:
    rows = (
        "id,customerId,type,balance\nCM1,NEWCUST1,SAVINGS,100\nCM2,newcust1,SAVINGS,200\n"
        "CM3,ＮＥＷ2,SAVINGS,5\nCM4,BRAND\u200bNEW,SAVINGS,5\nCM5,NEWCUST1,SAVINGS,7\n"
    )
    summary = await import_file(
        store, "accounts", input_file(tmp_path, "cm.csv", rows), create_missing=True
    )
    reasons = {d["line"]: d["reasons"] for d in dead_letters(tmp_path / "cm.dead.jsonl")}
    # Before the fix: inserted 5, customers NEWCUST1, newcust1, ＮＥＷ2 and BRAND<ZWSP>NEW.
    assert (summary.inserted, summary.rejected) == (2, 3)
    assert reasons == {
        3: [
            "customerId: differs only by case from the customer NEWCUST1 that line 2 of this "
            "import creates; customer ids are compared without case, so no second customer "
            "was made: write one spelling"
        ],
        4: [
            "customerId: contains a full-width or look-alike character (not in Unicode NFKC "
            "form, e.g. Ｃ or ９); write the id in plain characters"
        ],
        5: [
            "customerId: contains an invisible control or formatting character (e.g. U+200B, "
            "U+202E); write the id without it"
        ],
    }
    ids = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert [r["id"] for r in ids] == ["NEWCUST1"]


async def test_one_transaction_id_on_two_accounts_is_refused_not_a_duplicate(
    store: GraphStore, tmp_path: Path
) -> None:
    accounts = "id,customerId,type\nSEQA,S1,SAVINGS\nSEQB,S1,SAVINGS\n"
    rows = (
        "id,accountId,amount,time,kind\n1,SEQA,1.00,2025-01-01,DEPOSIT\n"
        "2,SEQA,2.00,2025-01-02,DEPOSIT\n1,SEQB,3.00,2025-01-03,DEPOSIT\n"
        "2,SEQB,4.00,2025-01-04,DEPOSIT\n2,SEQA,5.00,2025-01-05,DEPOSIT\n"
    )
    summary = await import_steps(
        store, tmp_path, ("customers", "id,name\nS1,王五\n"), ("accounts", accounts),
        ("transactions", rows),
    )  # fmt: skip
    # Before the fix: duplicates 3: one account's rows silently dropped or moved.
    assert (summary.inserted, summary.duplicates, summary.rejected) == (2, 1, 2)
    reasons = {d["line"]: d["reasons"] for d in dead_letters(tmp_path / "transactions2.dead.jsonl")}
    # Line 3 is superseded by line 6 (same id, same account); line 5 is id 2's first row.
    assert sorted(reasons) == [4, 6]
    assert reasons[4] == [
        "id: 1 is also given for another account, on line 2 of this import; transaction ids "
        "must be unique across accounts (a transaction is keyed by its id): prefix them with "
        "the account id, e.g. with a mapping's [sql] or --sql \"SELECT * REPLACE "
        "(concat(accountId, '-', id) AS id) FROM read_csv('FILE')\""
    ]
    stored = await store.read(
        "MATCH (a:Account)-[:HAS_TRANSACTION]->(t) RETURN t.id AS id, a.id AS a, t.amount AS x "
        "ORDER BY id"
    )
    assert [(r["id"], r["a"], r["x"]) for r in stored] == [("1", "SEQA", 1.0), ("2", "SEQB", 4.0)]
