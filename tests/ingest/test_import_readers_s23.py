"""Session 23 (QA) on `c360 import`'s readers: every format applies the 100 000-character limit
and (JSON Lines) the mixed-encoding check that delimited text applies, by one piece of code; a
JSON Lines line too long for any record is refused unread; a header column named after a field
beside a column mapped to that field is refused; a stray NUL makes one dead letter, not a
binary file; a spreadsheet row's dead letter lists every problem. Real embedded FalkorDB."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from ingest.readers import (
    MAX_FIELD_CHARS,
    MAX_JSONL_LINE,
    ReadOptions,
    UnsupportedFile,
    open_source,
    read_records,
)
from ingest.summary import ImportRefused
from tests.dead_letters import dead_letters

LONG = MAX_FIELD_CHARS + 50_000
TOO_LONG = f"name: {LONG} characters (limit {MAX_FIELD_CHARS})"
PRECISION = (
    "idNumber: stored as a number, precision lost: format the column as text in the "
    "spreadsheet and export again"
)


# --- 1. the 100 000-character limit in every format ----------------------------------------------


async def test_a_jsonl_value_over_the_limit_is_a_dead_letter(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "long.jsonl"
    lines = [
        {"id": "HL1", "name": "x" * LONG, "address": "y" * 200_000},
        {"id": "HL2", "name": "好"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = dead_letters(tmp_path / "long.dead.jsonl")
    # Both values over the limit are named (a dead letter lists every problem).
    assert (letter["line"], letter["reasons"]) == (
        1,
        [TOO_LONG, f"address: 200000 characters (limit {MAX_FIELD_CHARS})"],
    )
    assert str(letter["raw"]).endswith("… [cut: the first 4096 characters of this line]")
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert rows == [{"id": "HL2"}]

    # A transaction's description, an interaction's summary: the same check.
    tx = tmp_path / "tx.jsonl"
    tx.write_text(
        json.dumps({"id": "T1", "accountId": "A1", "amount": "1", "description": "d" * LONG})
        + "\n",
        encoding="utf-8",
    )
    (record,) = read_records(tx)
    assert record.data is None
    assert record.error == f"description: {LONG} characters (limit {MAX_FIELD_CHARS})"


def test_spreadsheet_and_parquet_values_over_the_limit_are_dead_letters(tmp_path: Path) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name"])
    sheet.append(["S1", "PLACEHOLDER"])
    sheet.append(["S2", "ok"])
    written = tmp_path / "written.xlsx"
    book.save(written)
    # Excel (and openpyxl) cut a cell at 32 767 characters, but the file format holds more:
    # what another tool writes.
    xlsx = tmp_path / "long.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(xlsx, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item).replace(b"PLACEHOLDER", b"x" * LONG))
    parquet = tmp_path / "long.parquet"
    pq.write_table(pa.table({"id": ["P1", "P2"], "name": ["x" * LONG, "ok"]}), parquet)
    for path, first in ((xlsx, 2), (parquet, 1)):
        bad, good = read_records(path)
        assert (bad.line, bad.data, bad.error) == (first, None, TOO_LONG)
        assert isinstance(bad.raw, dict)
        assert str(bad.raw["name"]).endswith("… [cut: the first 4096 characters of this line]")
        assert good.data is not None and good.data["name"] == "ok"


def test_a_jsonl_line_longer_than_any_record_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"id": "H1", "name": "')
        for _ in range(40):
            fh.write("x" * 1_000_000)  # a 40 MB name
        fh.write('"}\n{"id": "H2", "name": "ok"}\n')
    tracemalloc.start()
    try:
        records = list(read_records(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(r.line, r.data is None) for r in records] == [(1, True), (2, False)]
    size = len('{"id": "H1", "name": "') + 40_000_000 + len('"}')
    assert records[0].error == (
        f"line longer than {MAX_JSONL_LINE} bytes ({size}): not read; "
        "a record this long is no export's, check the line"
    )
    assert peak < 3 * MAX_JSONL_LINE  # never the 40 MB line


# --- 2. a UTF-8 line in a GB18030 JSON Lines file ------------------------------------------------


async def test_a_utf8_line_in_a_gb18030_jsonl_file_is_a_dead_letter_not_mojibake(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "mixcrm.jsonl"
    utf8 = json.dumps({"id": "MX1", "name": "招商银行服务很好"}, ensure_ascii=False)
    gbk = json.dumps({"id": "MX2", "name": "光大银行的客服"}, ensure_ascii=False)
    path.write_bytes(utf8.encode("utf-8") + b"\n" + gbk.encode("gbk") + b"\n")
    summary = await import_file(
        store, "customers", path, read_options=ReadOptions(encoding="gb18030")
    )
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert [(d["line"], d["reasons"]) for d in dead_letters(tmp_path / "mixcrm.dead.jsonl")] == [
        (1, ["name: bytes that are not valid gb18030: re-export the file in one encoding"])
    ]
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id, c.name AS name")
    assert rows == [{"id": "MX2", "name": "光大银行的客服"}]


# --- 3. a header column named after a field beside a column mapped to it ------------------------


async def test_a_column_named_after_a_field_and_one_mapped_to_it_are_refused(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "twophone.csv"
    path.write_text("id,phone,手机\nPH1,13800003001,13800003002\n", encoding="utf-8")
    mapping = ColumnMapping.from_dict({"columns": {"手机": "phone"}})
    with pytest.raises(ImportRefused) as info:
        await import_file(store, "customers", path, mapping)
    assert str(info.value) == (
        "twophone.csv: phone: the columns 'phone' and '手机' both land in this field; which "
        "value is right only the exporter knows: remove one or map it to another field"
    )
    assert await store.read("MATCH (c:Customer) RETURN c.id AS id") == []

    # A JSON Lines record giving both: that record is a dead letter, naming the other problems.
    lines = tmp_path / "twophone.jsonl"
    lines.write_text(
        '{"id": "PH2", "phone": "13800003001", "手机": "13800003002", "email": "bad"}\n'
        '{"id": "PH3", "手机": "13800003003"}\n',
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", lines, mapping)
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = dead_letters(tmp_path / "twophone.dead.jsonl")
    assert letter["line"] == 1
    assert letter["reasons"][0] == (
        "phone: the columns 'phone' and '手机' both land in this field; which value is right "
        "only the exporter knows: remove one or map it to another field"
    )
    assert any(r.startswith("email:") for r in letter["reasons"][1:])
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id, c.phone AS phone")
    assert rows == [{"id": "PH3", "phone": "+8613800003003"}]


# --- 4. a stray NUL byte ------------------------------------------------------------------------


async def test_a_stray_nul_is_one_dead_letter_and_binaries_are_still_refused(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "nulbig.csv"
    rows = [f"N{i:04d},name{i}" for i in range(600)]
    rows[500] = "N0500,a\x00b"
    path.write_text("id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.rejected) == (599, 1)
    assert [(d["line"], d["reasons"]) for d in dead_letters(tmp_path / "nulbig.dead.jsonl")] == [
        (502, ["name: contains a control character"])
    ]

    # Real binaries renamed .csv: refused with one sentence, as before.
    archive = tmp_path / "export.csv"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("customers.csv", "id,name\n" + "\n".join(rows[:10]))
    image = tmp_path / "logo.csv"
    pixels = zlib.compress(b"\x00" + b"\x00\xff\x00" * 16)
    image.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x01\x08\x02\x00\x00\x00\x00\x00\x00\x00"
        + len(pixels).to_bytes(4, "big")
        + b"IDAT"
        + pixels
        + b"\x00\x00\x00\x00\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    for binary in (archive, image):
        with pytest.raises(UnsupportedFile, match=rf"{binary.name} (is not text|does not look)"):
            open_source(binary)


# --- 5. a spreadsheet row's dead letter lists every problem -------------------------------------


async def test_a_spreadsheet_dead_letter_lists_every_problem_of_its_row(
    store: GraphStore, tmp_path: Path
) -> None:
    import openpyxl

    csv_path = tmp_path / "multi.csv"
    csv_path.write_text(
        "id,name,idNumber,createdAt,phone\nXR1,甲,110105199007011234,45000,12345\n",
        encoding="utf-8",
    )
    await import_file(store, "customers", csv_path)
    ((_, csv_reasons),) = [
        (d["line"], d["reasons"]) for d in dead_letters(tmp_path / "multi.dead.jsonl")
    ]
    others = [r for r in csv_reasons if not r.startswith("idNumber")]
    assert any(r.startswith("phone:") for r in others)
    assert any(r.startswith("createdAt:") for r in others)

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "idNumber", "createdAt", "phone"])
    sheet.append(["XR1", "甲", 110105199007011234, "45000", "12345"])
    xlsx = tmp_path / "multi_x.xlsx"
    book.save(xlsx)
    summary = await import_file(store, "customers", xlsx)
    assert (summary.inserted, summary.rejected) == (0, 1)
    (letter,) = dead_letters(tmp_path / "multi_x.dead.jsonl")
    assert letter["reasons"] == [PRECISION, *others]
    assert letter["raw"]["idNumber"].startswith("1.10105199007011")  # the float, not an id
    assert letter["raw"]["idNumber"].endswith("e+17")

    # Parquet: the same, a too-long name beside the number.
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "multi_p.parquet"
    table = {"id": ["XP1"], "name": ["x" * LONG], "idNumber": [1.1010519900701123e17]}
    pq.write_table(pa.table(table), parquet)
    summary = await import_file(store, "customers", parquet)
    assert summary.rejected == 1
    (letter,) = dead_letters(tmp_path / "multi_p.dead.jsonl")
    assert letter["reasons"] == [TOO_LONG, PRECISION]


async def test_a_sql_transform_value_over_the_limit_is_a_dead_letter(
    store: GraphStore, tmp_path: Path
) -> None:
    # A SQL transform's result rows go through the same value check as every reader's.
    data = tmp_path / "people.csv"
    data.write_text(f"cid,nm\nQ1,{'x' * LONG}\nQ2,好\n", encoding="utf-8")
    (tmp_path / "map.toml").write_text(
        '[sql]\nquery = """SELECT cid AS id, nm AS name FROM read_csv(\'{file}\')"""\n',
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", data, ColumnMapping.load(tmp_path / "map.toml"))
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = dead_letters(tmp_path / "people.dead.jsonl")
    assert (letter["line"], letter["reasons"]) == (1, [TOO_LONG])
    assert letter["raw"]["id"] == "Q1"
    assert letter["raw"]["name"].endswith("… [cut: the first 4096 characters of this line]")
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert rows == [{"id": "Q2"}]
