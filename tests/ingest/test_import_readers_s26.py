"""QA session 26 on `c360 import` readers: typed numbers bypass the text spelling rules,
uncached formulas, Latin code pages, cut raw text, repeated headers. Real embedded FalkorDB."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from tests.dead_letters import dead_letters


async def _eur_customer(store: GraphStore, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nZ001,Zed\n", encoding="utf-8")
    await import_file(store, "customers", customers)
    accounts = tmp_path / "az.csv"
    accounts.write_text("id,customerId,type,balance,currency\nAZ1,Z001,SAVINGS,1,EUR\n")
    await import_file(store, "accounts", accounts)


async def test_a_parquet_decimal_is_a_number_whatever_the_decimal_mark(
    store: GraphStore, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    await _eur_customer(store, tmp_path)
    d = Decimal
    path = tmp_path / "acc.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["PD1", "PD2", "PD3"],
                "customerId": ["Z001"] * 3,
                "type": ["SAVINGS"] * 3,
                "balance": pa.array([d("12.340"), d("1.5"), d("1000.000")], pa.decimal128(12, 3)),
                "currency": ["EUR"] * 3,
            }
        ),
        path,
    )
    # With "," (the bank's text exports' mark) the DECIMAL 12.340 was read as 12340.
    summary = await import_file(store, "accounts", path, ColumnMapping().with_decimal(","))
    assert (summary.inserted, summary.rejected) == (3, 0)
    rows = await store.read(
        "MATCH (a:Account) WHERE a.id STARTS WITH 'PD' "
        "RETURN a.id AS id, a.balance AS b ORDER BY id"
    )
    assert [(r["id"], r["b"]) for r in rows] == [("PD1", 12.34), ("PD2", 1.5), ("PD3", 1000.0)]

    tx = tmp_path / "tx.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["PQ1", "PQ2"],
                "accountId": ["AZ1"] * 2,
                "amount": pa.array([d("1.230"), d("99999.99")], pa.decimal128(12, 3)),
                "currency": ["EUR"] * 2,
                "time": ["2025-05-01T08:00:00Z"] * 2,
                "kind": ["DEPOSIT"] * 2,
            }
        ),
        tx,
    )
    # Without a decimal mark, 1.230 was refused as "ambiguous amount".
    summary = await import_file(store, "transactions", tx)
    assert (summary.inserted, summary.rejected) == (2, 0), dead_letters(tmp_path / "tx.dead.jsonl")


async def test_a_formula_without_a_cached_value_is_a_dead_letter_not_an_empty_cell(
    store: GraphStore, tmp_path: Path
) -> None:
    import openpyxl

    await _eur_customer(store, tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "customerId", "type", "balance", "currency"])
    # openpyxl writes formulas without a cached value, as reporting tools do.
    sheet.append(["AZ1", "Z001", "SAVINGS", "=1000.10+234.46", "EUR"])  # stored: keep nothing
    sheet.append(["X012", "Z001", "SAVINGS", "=SUM(1,2)", "EUR"])
    sheet.append(["X013", "Z001", "SAVINGS", 7, "EUR"])
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    summary = await import_file(store, "accounts", path)
    assert (summary.inserted, summary.unchanged, summary.rejected) == (1, 0, 2)
    letters = dead_letters(tmp_path / "formulas.dead.jsonl")
    assert [d["line"] for d in letters] == [2, 3]
    assert letters[0]["reasons"] == [
        "balance: the spreadsheet cell holds a formula whose value was never computed: open "
        "and save the workbook in Excel or LibreOffice so formula values are computed, then "
        "import it again"
    ]
    assert letters[1]["raw"]["balance"] == "=SUM(1,2)"


def test_a_formula_with_its_cached_value_reads_as_that_value(tmp_path: Path) -> None:
    import zipfile

    import openpyxl

    from ingest.readers import read_records

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "balance", "note"])
    sheet.append(["A1", "=1+2", '=""'])
    written = tmp_path / "written.xlsx"
    book.save(written)
    path = tmp_path / "cached.xlsx"  # as Excel saves it: the values beside the formulas
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
                data = data.replace(b'<c r="C2">', b'<c r="C2" t="str">')
            dst.writestr(item, data)
    [record] = read_records(path)
    assert record.error is None
    assert record.data == {"id": "A1", "balance": "3", "note": ""}


def test_only_a_formula_without_its_value_makes_the_sheet_parsed() -> None:
    # Review, session 26: any formula made the first sheet parsed in Python; only one
    # without a value (or an error cell) needs it.
    from ingest.readers import _XLSX_ERROR_MARKS

    cached = [
        b'<c r="D2"><f>1+2</f><v>3</v></c>',
        b'<c r="D3"><f t="shared" ref="D3:D9" si="0">1+2</f><v>3</v></c>',
        b'<c r="D4"><f t="shared" si="0"/><v>3</v></c>',
        b'<c r="D5" t="str"><f>A1</f><v>x</v></c>',
    ]
    uncached = [
        b'<c r="D2"><f>1000.10+234.46</f><v /></c>',
        b'<c r="D3"><f>SUM(1,2)</f></c>',
        b'<c r="D4"><f t="shared" si="0"/></c>',
        b'<c r="D5"><f>1+2</f><v></v></c>',
        b'<c r="D6" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
    ]
    assert [bool(_XLSX_ERROR_MARKS.search(c)) for c in cached] == [False] * len(cached)
    assert [bool(_XLSX_ERROR_MARKS.search(c)) for c in uncached] == [True] * len(uncached)


LATIN1_ROWS = [
    ("W1", "François Lelièvre", "Rue de la Paix 3, Besançon"),
    ("W2", "Renée Øster", "Højdevangs Allé 12, København"),
    ("W3", "Jürgen Müller", "Sværtegade 4, Århus"),
]


def test_a_latin1_file_that_reads_as_cp1250_too_is_refused_naming_both(tmp_path: Path) -> None:
    import pytest

    from ingest.readers import ReadOptions, UnsupportedFile, open_source, read_records

    qa = tmp_path / "qa.csv"
    qa.write_bytes("id,name\nW2,Renée Øster\n".encode("latin-1"))  # was read as cp1250: Řster
    path = tmp_path / "latin1.csv"
    text = "id,name,address\n" + "".join(f'{i},{n},"{a}"\n' for i, n, a in LATIN1_ROWS)
    path.write_bytes(text.encode("latin-1"))
    for refused_path in (qa, path):
        with pytest.raises(UnsupportedFile) as refused:
            open_source(refused_path)
        message = str(refused.value)
        assert message.startswith(f"{refused_path.name}: its encoding can only be guessed")
        assert "cp1250" in message and "cp1252" in message
        assert "give it with --encoding (latin-1 or cp1252 for Western European" in message
    names = [r.data["name"] for r in read_records(path, ReadOptions(encoding="latin-1")) if r.data]
    assert names == [n for _, n, _ in LATIN1_ROWS]


def test_a_czech_cp1250_file_is_still_read_as_cp1250(tmp_path: Path) -> None:
    from ingest.readers import open_source, read_records

    path = tmp_path / "cz.csv"
    rows = "id;name\nCZ1;Petr Dvořák\nCZ2;Jiří Šťastný\nCZ3;Žofie Čermáková\n"
    path.write_bytes(rows.encode("cp1250"))
    assert open_source(path).encoding == "cp1250"
    names = [r.data["name"] for r in read_records(path) if r.data]
    assert names == ["Petr Dvořák", "Jiří Šťastný", "Žofie Čermáková"]


def test_an_unclosed_quote_keeps_the_first_4096_characters_of_its_line(tmp_path: Path) -> None:
    from ingest.readers import RAW_SHOWN, read_records

    path = tmp_path / "huge.csv"
    path.write_text('id,name,phone\nH0003,"' + "a" * 50_000 + "\nH0004,ok,13812345670\n")
    first, second = read_records(path)
    assert first.error is not None and first.error.startswith("a quoted value on line 2")
    assert isinstance(first.raw, str)
    assert first.raw.startswith('H0003,"aaa')
    assert first.raw.endswith(f"… [cut: the first {RAW_SHOWN} characters of this line]")
    assert len(first.raw) < RAW_SHOWN + 100  # it kept the whole line
    assert second.data == {"id": "H0004", "name": "ok", "phone": "13812345670"}


async def test_a_repeated_header_is_a_dead_letter_not_a_record(
    store: GraphStore, tmp_path: Path
) -> None:
    import openpyxl

    path = tmp_path / "cat_all.csv"  # cat a.csv b.csv, each with its header
    a = "\ufeffid,name,occupation\nK1,甲,医生\n"
    b = "id,name,occupation\r\nK2,乙,教师\r\n"
    path.write_bytes((a + b).encode("utf-8"))
    summary = await import_file(store, "customers", path)
    assert (summary.read, summary.inserted, summary.rejected) == (3, 2, 1)
    [letter] = dead_letters(tmp_path / "cat_all.dead.jsonl")
    assert letter["line"] == 3
    assert letter["reasons"] == [
        "the header repeats on line 3: were two exports concatenated? the line is not "
        "imported; remove it (or import the files one by one)"
    ]
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["K1", "K2"]

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["id", "name"], ["K3", "丙"], ["id", "name"], ["K4", "丁"]):
        sheet.append(row)
    xlsx = tmp_path / "cat.xlsx"
    book.save(xlsx)
    summary = await import_file(store, "customers", xlsx)
    assert (summary.inserted, summary.rejected) == (2, 1)
    assert [d["line"] for d in dead_letters(tmp_path / "cat.dead.jsonl")] == [3]


async def _gated_run_stopped_after_20(store: GraphStore, tmp_path: Path) -> tuple[Path, dict]:
    """test_import_qa19's gated file, its import stopped after 20 records (2 missing parents
    and 1 invalid row among them: 3 dead letters up to the checkpoint)."""
    import pytest

    from ingest.crm import KINDS, ImportInterrupted, ImportKind
    from tests.ingest.test_crm import GatedRecord, upsert_gated
    from tests.ingest.test_import_qa19 import lookup_orphans

    kinds = {**KINDS, "gated": ImportKind(GatedRecord, upsert_gated, lookup=lookup_orphans)}
    rows = []
    for i in range(40):
        key = f"M{i:03d}" if i in (3, 15, 30) else f"G{i:03d}"
        rows.append(f"{key},{ {25: 'true', 5: 'maybe', 33: 'maybe'}.get(i, 'false') }")
    path = tmp_path / "gated.csv"
    path.write_text("\n".join(["id,gated", *rows]) + "\n", encoding="utf-8")
    await store.write("CREATE (:Gate {open: 0})")
    options = {"batch_size": 10, "checkpoint_path": tmp_path / "cp.json", "kinds": kinds}
    with pytest.raises(ImportInterrupted, match="after 20 records"):
        await import_file(store, "gated", path, **options)
    await store.write("MATCH (g:Gate) SET g.open = 4")
    return path, options


async def test_a_resume_whose_dead_letters_were_moved_starts_over(
    store: GraphStore, tmp_path: Path
) -> None:
    path, options = await _gated_run_stopped_after_20(store, tmp_path)
    (tmp_path / "gated.dead.jsonl").rename(tmp_path / "first-run.jsonl")  # taken to fix rows
    summary = await import_file(store, "gated", path, **options)
    # Resumed, the 3 dead letters of the committed part were in no file and no figure.
    assert summary.resumed_after == 0
    assert summary.not_resumed == (
        f"started over: an earlier run of this input committed 20 records, but "
        f"{tmp_path / 'gated.dead.jsonl'} holds 0 of the 3 dead letters it wrote (the file "
        "was moved, edited or removed), so every record is read and written again"
    )
    assert (summary.read, summary.rejected, summary.rejected_total) == (40, 5, 5)
    assert summary.read == summary.imported + summary.rejected_total + summary.duplicates
    lines = sorted(d["line"] for d in dead_letters(tmp_path / "gated.dead.jsonl"))
    assert lines == [5, 7, 17, 32, 35]


async def test_a_resume_with_other_dead_letters_starts_over(
    store: GraphStore, tmp_path: Path
) -> None:
    path, options = await _gated_run_stopped_after_20(store, tmp_path)
    elsewhere = tmp_path / "dl2"
    elsewhere.mkdir()
    summary = await import_file(store, "gated", path, dead_letters=elsewhere, **options)
    assert summary.resumed_after == 0
    assert "its 3 dead letters went to " in summary.not_resumed
    assert (summary.read, summary.rejected_total) == (40, 5)
    assert len(dead_letters(elsewhere / "gated.dead.jsonl")) == 5


async def test_a_resume_with_its_dead_letters_in_place_resumes(
    store: GraphStore, tmp_path: Path
) -> None:
    path, options = await _gated_run_stopped_after_20(store, tmp_path)
    summary = await import_file(store, "gated", path, **options)
    assert (summary.resumed_after, summary.not_resumed) == (20, "")
    assert (summary.read, summary.rejected, summary.rejected_total) == (40, 2, 5)
