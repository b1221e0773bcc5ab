"""Session 18 on `c360 import`: a stray opening quote in delimited text costs its own line, not
the rows after it; an XLSX number that lost float precision is no id; a mapping sending two
columns to one field is refused. Real embedded FalkorDB for the imports."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping, MappingError
from ingest.readers import open_source, read_records

# --- 1. a stray opening quote ----------------------------------------------------------------


def _stray_quote_csv(path: Path, rows: int, bad: int, encoding: str = "utf-8") -> None:
    """``rows`` customers; row ``bad`` (0-based, on line bad + 2) opens a quote it never closes."""
    lines = ["id,name,phone"]
    for i in range(rows):
        name = '"坏引号' if i == bad else f"名{i}"
        lines.append(f"U{i:04d},{name},1380013{i:04d}")
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_a_stray_quote_is_one_dead_line_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    path = tmp_path / "unq.csv"
    _stray_quote_csv(path, 1000, bad=2)
    records = list(read_records(path))
    assert len(records) == 1000
    broken = [r for r in records if r.data is None]
    assert [(r.line, r.raw) for r in broken] == [(4, 'U0002,"坏引号,13800130002')]
    assert "quoted value on line 4 is not closed" in (broken[0].error or "")
    assert "check the quoting" in (broken[0].error or "")
    good = [r for r in records if r.data is not None]
    # Line numbers stay those of the file: U0999 is on line 1001.
    assert (good[-1].line, good[-1].data) == (
        1001,
        {"id": "U0999", "name": "名999", "phone": "13800130999"},
    )
    assert [r.line for r in good[:3]] == [2, 3, 5]
    # The first pass (duplicate keys) sees the same records, one for one.
    keys = list(open_source(path).key_data(["id"]))
    assert [k is None for k in keys] == [r.data is None for r in records]


def test_a_stray_quote_closed_by_a_later_quote_costs_one_line(tmp_path: Path) -> None:
    # The stray quote is closed by the next well-formed quoted value: the record in between
    # has the wrong number of values; its first line is the dead letter, the rest is re-read,
    # and the well-formed multi-line value stays one value.
    path = tmp_path / "semi.csv"
    path.write_bytes(
        'id;name;note\nA1;"bad;x\nA2;ok;y\nA3;fine;"two\nlines"\nA4;last;z\n'.encode("gb18030")
    )
    records = list(read_records(path))
    assert [(r.line, r.data) for r in records] == [
        (2, None),
        (3, {"id": "A2", "name": "ok", "note": "y"}),
        (4, {"id": "A3", "name": "fine", "note": "two\nlines"}),
        (6, {"id": "A4", "name": "last", "note": "z"}),
    ]
    assert records[0].raw == 'A1;"bad;x'


def test_a_stray_quote_in_a_large_file_holds_no_more_than_one_record(tmp_path: Path) -> None:
    # 60 000 rows after an unclosed quote: the reader stops the runaway record at what a
    # record of this width can hold (not at the end of the file) and reads on from line 2.
    path = tmp_path / "big.csv"
    names = [f"n{i}" for i in range(60_000)]
    names[10] = '"x'
    lines = ["id,name"] + [f"B{i:06d},{name}" for i, name in enumerate(names)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(read_records(path))
    assert len(records) == 60_000
    broken = [r for r in records if r.data is None]
    assert [(r.line, r.raw) for r in broken] == [(12, 'B000010,"x')]
    assert "runs over" in (broken[0].error or "")
    assert (records[-1].line, records[-1].data) == (60_001, {"id": "B059999", "name": "n59999"})


def test_a_quote_left_open_on_the_last_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "end.csv"
    path.write_text('id,name\nA1,one\nA2,"two', encoding="utf-8")
    records = list(read_records(path))
    assert [(r.line, r.data is None) for r in records] == [(2, False), (3, True)]
    assert "not closed" in (records[1].error or "")


async def test_import_with_a_stray_quote_imports_the_rest(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "q.csv"
    _stray_quote_csv(path, 300, bad=5, encoding="gb18030")
    summary = await import_file(store, "customers", path)
    assert (summary.read, summary.inserted, summary.rejected) == (300, 299, 1)
    dead = [orjson.loads(x) for x in (tmp_path / "q.dead.jsonl").read_bytes().splitlines()]
    assert [(d["line"], d["raw"]) for d in dead] == [(7, 'U0005,"坏引号,13800130005')]
    # The last row, far past the stray quote, is stored (its name may be sealed: the session's
    # store has field encryption on once a test before this one in the worker turned it on).
    rows = await store.read("MATCH (c:Customer) WHERE c.id STARTS WITH 'U0' RETURN count(c) AS n")
    assert rows == [{"n": 299}]
    assert await store.read("MATCH (c:Customer {id: 'U0299'}) RETURN c.id AS id") == [
        {"id": "U0299"}
    ]


# --- 2. an 18-digit id stored as a number cell -------------------------------------------------


def test_an_id_number_stored_as_a_number_cell_is_a_dead_letter(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "idNumber", "phone"])
    # A float holds no 18-digit number exactly: this one reads back as ...010096.
    sheet.append(["XM0", "数字证件号", 110105199001010141, 13812345678])
    sheet.append(["XM1", "文本证件号", "110105199001010141", 13812345679])
    path = tmp_path / "numid.xlsx"
    book.save(path)
    records = list(read_records(path))
    assert [(r.line, r.data is None) for r in records] == [(2, True), (3, False)]
    assert records[0].error == (
        "idNumber: stored as a number, precision lost: format the column as text in the "
        "spreadsheet and export again"
    )
    # An 11-digit phone number is exact as a float: still whole-number text.
    assert records[1].data == {
        "id": "XM1",
        "name": "文本证件号",
        "idNumber": "110105199001010141",
        "phone": "13812345679",
    }


def test_a_parquet_float_beyond_exact_whole_numbers_is_a_dead_letter(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "numid.parquet"
    table = pa.table({"id": ["P1", "P2"], "idNumber": [1.1010519900101014e17, 42.0]})
    pq.write_table(table, path)
    records = list(read_records(path))
    assert records[0].data is None
    assert (records[0].error or "").startswith("idNumber: stored as a number, precision lost")
    assert records[1].data == {"id": "P2", "idNumber": "42"}


# --- 3. two source columns mapped to one field --------------------------------------------------


def test_a_mapping_sending_two_columns_to_one_field_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "dup.toml"
    mapping.write_text(
        '[columns]\n"客户号" = "id"\n"姓名" = "name"\n"名字" = "name"\n', encoding="utf-8"
    )
    with pytest.raises(MappingError) as info:
        ColumnMapping.load(mapping)
    assert str(info.value) == (
        "dup.toml: [columns] sends both '姓名' and '名字' to the field 'name'; "
        "map one of them to another field or remove it"
    )
    # Names that differ only by surrounding spaces are one column named twice.
    with pytest.raises(MappingError, match="names the column '姓名' twice"):
        ColumnMapping.from_dict({"columns": {"姓名": "name", " 姓名 ": "name"}}, "m")
