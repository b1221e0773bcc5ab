"""Session 22 (QA) on `c360 import`: an amount in exponent form or with an underscore (what a
spreadsheet makes of a long number) is a dead letter, never an exact amount; a dead letter
keeps its whole raw row and names the field with its source column; and a record's dead
letter lists every field's problem, not the first. Real embedded FalkorDB."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from shared.records import MANGLED_AMOUNT
from tests.dead_letters import dead_letters


async def test_amounts_in_exponent_form_or_with_underscores_are_dead_letters(
    store: GraphStore, tmp_path: Path
) -> None:
    await store.write("CREATE (:Customer {id: 'C1'})")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "id,customerId,balance\n"
        "A1,C1,1.23457E+11\n"  # Excel's display of 123456789012: stored as 123457000000
        "A2,C1,1E-2\n"
        "A3,C1,1_000\n"
        "A4,C1,1234.50\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "accounts", accounts)
    assert (summary.inserted, summary.rejected) == (1, 3)
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.balance AS balance")
    assert rows == [{"id": "A4", "balance": 1234.5}]
    assert [(d["line"], d["reasons"]) for d in dead_letters(tmp_path / "accounts.dead.jsonl")] == [
        (n, [f"balance: {MANGLED_AMOUNT}"]) for n in (2, 3, 4)
    ]
    assert "export the column as text" in MANGLED_AMOUNT and "Excel" in MANGLED_AMOUNT

    transactions = tmp_path / "tx.csv"
    transactions.write_text(
        "id,accountId,amount,time,kind\n"
        "T1,A4,2.5E+2,2025-03-01T08:00:00Z,DEPOSIT\n"
        "T2,A4,250.00,2025-03-01T08:00:00Z,DEPOSIT\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "transactions", transactions)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert [(d["line"], d["reasons"]) for d in dead_letters(tmp_path / "tx.dead.jsonl")] == [
        (2, [f"amount: {MANGLED_AMOUNT}"])
    ]


async def test_a_dead_letter_lists_every_fields_problem(store: GraphStore, tmp_path: Path) -> None:
    await store.write(
        "CREATE (:Customer {id: 'C1'})-[:OWNS {role: 'OWNER'}]->(:Account {id: 'A1'})"
    )
    path = tmp_path / "tx.csv"
    path.write_text(
        "id,accountId,amount,currency,time,kind\n"
        # (A row without a currency has its decimals judged once its account's is looked up,
        # which a row already refused is not: session 26.)
        "T1,A1,12.345,CNY,45000,DEPOSIT\n"  # three decimals in CNY, and no time
        "T2,A1,1.005,CNY,45000,GIFT\n",  # ambiguous in KWD (below), no time, no kind
        encoding="utf-8",
    )
    await import_file(store, "transactions", path)
    dead = dead_letters(tmp_path / "tx.dead.jsonl")
    assert [d["line"] for d in dead] == [2, 3]
    assert [r.split(":")[0] for r in dead[0]["reasons"]] == ["time", "amount"]
    assert "more decimals than CNY has" in dead[0]["reasons"][1]

    # The ambiguous spelling and the mapping's formats are judged beside the other fields too.
    path.write_text(
        "id,accountId,amount,currency,time,kind\n"
        "T3,A1,1.005,KWD,45000,GIFT\n"
        'T4,A1,"1.234,5678",KWD,32.13.2025,GIFT\n',
        encoding="utf-8",
    )
    mapping = ColumnMapping.from_dict({"source": {"time_formats": ["%d.%m.%Y"]}})
    await import_file(store, "transactions", path)
    dead = dead_letters(tmp_path / "tx.dead.jsonl")
    assert [r.split(":")[0] for r in dead[0]["reasons"]] == ["time", "kind", "amount"]
    assert "ambiguous amount" in dead[0]["reasons"][2]
    await import_file(store, "transactions", path, mapping.with_decimal(","))
    dead = dead_letters(tmp_path / "tx.dead.jsonl")
    # With ",": 1.005 is 1005, which KWD holds; 1.234,5678 has a fourth decimal.
    assert [r.split(":")[0] for r in dead[0]["reasons"]] == ["time", "kind"]
    assert [r.split(":")[0] for r in dead[1]["reasons"]] == ["time", "kind", "amount"]
    assert "more decimals than KWD has" in dead[1]["reasons"][2]


async def test_an_xlsx_dead_letter_keeps_its_row_and_names_field_and_column(
    store: GraphStore, tmp_path: Path
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户号", "姓名", "证件号码", "手机"])
    sheet.append(["XQ1", "文本证件号", "110105199001010141", 13812345679])
    sheet.append(["XQ2", "数字证件号", 110105199001010141, 13812345678])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    mapping = ColumnMapping.from_dict(
        {"columns": {"客户号": "id", "姓名": "name", "证件号码": "idNumber", "手机": "phone"}}
    )
    summary = await import_file(store, "customers", path, mapping)
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = dead_letters(tmp_path / "customers.dead.jsonl")
    assert letter["line"] == 3
    # The whole row, the number as the float the sheet holds (not a neighbouring id as text).
    assert letter["raw"] == {
        "客户号": "XQ2",
        "姓名": "数字证件号",
        "证件号码": "1.101051990010101e+17",
        "手机": "13812345678",
    }
    assert letter["reasons"] == [
        "idNumber (column 证件号码): stored as a number, precision lost: format the column as "
        "text in the spreadsheet and export again"
    ]


async def test_a_text_row_of_the_wrong_width_keeps_its_values(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("id,name\nW1,甲\nW2,乙,extra\n", encoding="utf-8")
    await import_file(store, "customers", path)
    assert [(d["line"], d["raw"]) for d in dead_letters(tmp_path / "customers.dead.jsonl")] == [
        (3, ["W2", "乙", "extra"])
    ]
