"""QA defects on `c360 import` (the impread branch): a spreadsheet cell holding an error
(#N/A, #DIV/0!...) is a dead letter, never an empty value; a customers dead letter names the
birthDate/idNumber mismatch beside another field's problem. Real embedded FalkorDB."""

from __future__ import annotations

import zipfile
from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.readers import read_records
from tests.dead_letters import dead_letters


def _accounts_sheet(path: Path, rows: list[list[object]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "customerId", "type", "balance", "currency"])
    for row in rows:
        sheet.append(row)  # openpyxl writes "#N/A" and its kind as error cells (t="e")
    book.save(path)


async def test_an_error_cell_in_a_spreadsheet_is_a_dead_letter_not_an_empty_value(
    store: GraphStore, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nP001,甲\n", encoding="utf-8")
    await import_file(store, "customers", customers)
    first = tmp_path / "first.csv"
    first.write_text("id,customerId,type,balance,currency\nNA0,P001,SAVINGS,5,CNY\n")
    await import_file(store, "accounts", first)

    path = tmp_path / "accounts.xlsx"
    _accounts_sheet(
        path,
        [
            ["NA0", "P001", "SAVINGS", "#N/A", "CNY"],  # stored: its balance must not stay
            ["NA1", "P001", "#DIV/0!", "#VALUE!", "CNY"],  # new: no null type or balance
            ["NA2", "P001", "SAVINGS", "12", "CNY"],
        ],
    )
    with zipfile.ZipFile(path) as book:
        assert b't="e"' in book.read("xl/worksheets/sheet1.xml")  # real error cells
    summary = await import_file(store, "accounts", path)
    assert (summary.inserted, summary.rejected) == (1, 2)
    letters = dead_letters(tmp_path / "accounts.dead.jsonl")
    assert [(d["line"], d["reasons"]) for d in letters] == [
        (2, ["balance: the spreadsheet cell holds an error (#N/A)"]),
        (
            3,
            [
                "type: the spreadsheet cell holds an error (#DIV/0!)",
                "balance: the spreadsheet cell holds an error (#VALUE!)",
            ],
        ),
    ]
    assert letters[0]["raw"]["balance"] == "#N/A"
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["NA0", "NA2"]


def test_error_cells_are_found_without_cell_references(tmp_path: Path) -> None:
    # The r attributes of rows and cells are optional in the format: a cell's position is then
    # the one after the previous one's.
    written = tmp_path / "written.xlsx"
    _accounts_sheet(written, [["E1", "P001", "SAVINGS", "#REF!", "CNY"], ["E2", "P001"]])
    path = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                for ref in ("A", "B", "C", "D", "E"):
                    for number in (1, 2, 3):
                        data = data.replace(f' r="{ref}{number}"'.encode(), b"")
                for number in (1, 2, 3):
                    data = data.replace(f'<row r="{number}"'.encode(), b"<row")
            dst.writestr(item, data)
    with zipfile.ZipFile(path) as book:
        assert b' r="' not in book.read("xl/worksheets/sheet1.xml")
    bad, good = read_records(path)
    assert (bad.line, bad.error) == (2, "balance: the spreadsheet cell holds an error (#REF!)")
    assert good.data == {
        "id": "E2",
        "customerId": "P001",
        "type": "",
        "balance": "",
        "currency": "",
    }


MISMATCH = "birthDate: does not match the birth date in idNumber"


async def test_a_customers_dead_letter_names_the_birth_date_mismatch_beside_another_problem(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,birthDate,idNumber,email,gender\n"
        "G12,乙,1985-03-13,110105198503121234,a@b.cn,M\n"
        "G13,乙,1985-03-13,110105198503121234,bad-email,M\n"
        "G14,乙,1985-03-13,110105198503121234,bad-email,X\n"
        "G15,乙,1985-03-12,110105198503121234,bad-email,M\n"  # agrees: the email's alone
        "G16,乙,1985-13-13,110105198503121234,bad-email,M\n",  # no date: its own reason
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.rejected) == (0, 5)
    reasons = {d["line"]: d["reasons"] for d in dead_letters(tmp_path / "customers.dead.jsonl")}
    email = "email: not a valid email address"
    assert reasons[2] == [MISMATCH]
    assert reasons[3] == [email, MISMATCH]
    assert reasons[4] == ["gender: must be one of F, M (男/女/M/F)", email, MISMATCH]
    assert reasons[5] == [email]
    assert MISMATCH not in reasons[6] and reasons[6][0].startswith("birthDate: ")


async def test_an_error_cell_in_an_ignored_column_does_not_refuse_its_row(
    store: GraphStore, tmp_path: Path
) -> None:
    # A helper column of lookups (VLOOKUP's #N/A) lands in no field: nothing of it is imported.
    import openpyxl

    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nP001,甲\n", encoding="utf-8")
    await import_file(store, "customers", customers)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "customerId", "type", "balance", "currency", "lookup"])
    sheet.append(["IG1", "P001", "SAVINGS", "4", "CNY", "#N/A"])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    summary = await import_file(store, "accounts", path)
    assert (summary.inserted, summary.rejected, summary.ignored_columns) == (1, 0, ["lookup"])


ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_text(value: str) -> str:
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def _ods_error(value: str, repeated: int = 1) -> str:
    # As LibreOffice writes a failed formula's cell (its cached error as text).
    return (
        '<table:table-cell table:formula="of:=NA()" office:value-type="string" '
        f'office:string-value="" calcext:value-type="error" '
        f'table:number-columns-repeated="{repeated}"><text:p>{value}</text:p></table:table-cell>'
    )


def test_error_cells_of_an_ods_sheet_are_dead_letters(tmp_path: Path) -> None:
    header = "".join(_ods_text(h) for h in ("id", "name", "balance", "type"))
    rows = [
        f"<table:table-header-rows><table:table-row>{header}</table:table-row>"
        "</table:table-header-rows>",
        "<table:table-row>" + _ods_text("X1") + "<table:table-cell/>" + _ods_error("#N/A", 2),
        # A repeated row, a covered cell (under a merged one): each counts as calamine reads.
        '<table:table-row table:number-rows-repeated="2">'
        + _ods_text("X2")
        + "<table:covered-table-cell/>"
        + _ods_text("5")
        + _ods_error("#VALUE!"),
        "<table:table-row>" + "".join(_ods_text(v) for v in ("X4", "n", "7", "SAVINGS")),
    ]
    body = rows[0] + "".join(f"{row}</table:table-row>" for row in rows[1:])
    second = "<table:table-row>" + _ods_error("#REF!") + "</table:table-row>"  # not read
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S">'
        f'{body}</table:table><table:table table:name="T">{second}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "accounts.ods"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", content)
        book.writestr("META-INF/manifest.xml", ODS_MANIFEST)
    records = list(read_records(path))
    assert [(r.line, list(r.problems.values())) for r in records] == [
        (
            2,
            [
                "balance: the spreadsheet cell holds an error (#N/A)",
                "type: the spreadsheet cell holds an error (#N/A)",
            ],
        ),
        (3, ["type: the spreadsheet cell holds an error (#VALUE!)"]),
        (4, ["type: the spreadsheet cell holds an error (#VALUE!)"]),
        (5, []),
    ]
    assert records[3].data == {"id": "X4", "name": "n", "balance": "7", "type": "SAVINGS"}
