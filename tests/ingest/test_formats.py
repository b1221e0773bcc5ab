"""Readers: encodings, dialects, spreadsheets, Parquet, and bad lines that do not stop a file."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from ingest.readers import (
    MAX_FIELD_CHARS,
    ReadOptions,
    UnsupportedFile,
    detect_encoding,
    open_source,
    read_records,
    sniff_delimiter,
)

ROWS = [
    ("C1", "张伟", "北京市朝阳区"),
    ("C2", "李娜", "上海市浦东新区"),
    ("C3", "王芳", "广州市天河区"),
]


def _text(rows: list[tuple[str, ...]], sep: str = ",", newline: str = "\n") -> str:
    lines = [sep.join(("id", "name", "address"))] + [sep.join(r) for r in rows]
    return newline.join(lines) + newline


def _data(path: Path, options: ReadOptions | None = None) -> list[dict[str, object] | None]:
    return [r.data for r in read_records(path, options)]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("utf-16", "utf-16")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(_text(ROWS).encode(encoding))
    source = open_source(path)
    assert (source.encoding, source.header) == (detected, ["id", "name", "address"])
    assert _data(path)[1] == {"id": "C2", "name": "李娜", "address": "上海市浦东新区"}


def test_latin_code_page_is_not_mistaken_for_gbk() -> None:
    sample = "id;name\n1;Příjem Dvořák\n2;Výdaj Šťastný\n".encode("cp1250")
    assert detect_encoding(sample, complete=True) == "cp1250"


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed_with_quoting_and_crlf(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "export.txt"
    rows = [("C1", f'"A{sep} quoted"', "x"), ("C2", "B", "y")]
    path.write_text(_text(rows, sep, "\r\n"), encoding="utf-8")
    source = open_source(path)
    assert source.delimiter == sep
    assert _data(path) == [
        {"id": "C1", "name": f"A{sep} quoted", "address": "x"},
        {"id": "C2", "name": "B", "address": "y"},
    ]


def test_sniffer_prefers_the_consistent_candidate() -> None:
    lines = ['"id";"note"\n', '"1";"a, b, c"\n', '"2";"d"\n']
    assert sniff_delimiter(lines) == ";"


def test_given_encoding_and_delimiter_win(tmp_path: Path) -> None:
    path = tmp_path / "odd.dat"
    path.write_bytes("id:name\nC1:张伟\n".encode("gb18030"))
    records = _data(path, ReadOptions(encoding="gb18030", delimiter=":"))
    assert records == [{"id": "C1", "name": "张伟"}]
    with pytest.raises(UnsupportedFile, match="unknown encoding 'klingon'"):
        open_source(path, ReadOptions(encoding="klingon"))


def test_random_bytes_are_refused_with_one_sentence(tmp_path: Path) -> None:
    for size in (64, 5000, 300_000):
        path = tmp_path / f"random{size}.csv"
        path.write_bytes(os.urandom(size))
        with pytest.raises(UnsupportedFile, match=rf"random{size}\.csv") as info:
            open_source(path)
        assert "\n" not in str(info.value)


def test_a_giant_field_is_one_bad_record_and_the_next_row_reads(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,name\nC1," + "x" * 10_000_000 + "\nC2,ok\n", encoding="utf-8")
    first, second = read_records(path)
    assert (first.line, first.data) == (2, None)
    assert first.error == f"name: 10000000 characters (limit {MAX_FIELD_CHARS})"
    assert (second.line, second.data) == (3, {"id": "C2", "name": "ok"})


def test_undecodable_line_is_a_bad_record_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    good = [f"C{i},张{i}号\n".encode("gbk") for i in range(20)]
    path.write_bytes(
        b"id,name\n" + b"".join(good[:10]) + b"C99,\xff\xfe\x80\n" + b"".join(good[10:])
    )
    records = list(read_records(path))
    assert len(records) == 21
    bad = [r for r in records if r.error]
    assert [(r.line, r.error) for r in bad] == [
        (12, "name: bytes that are not valid gb18030: re-export the file in one encoding")
    ]
    assert records[-1].data == {"id": "C19", "name": "张19号"}


def test_wrong_column_count_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name\nC1\nC2,b,extra\nC3,c\n", encoding="utf-8")
    records = list(read_records(path))
    assert [r.error for r in records] == [
        "1 values but the header has 2 columns",
        "3 values but the header has 2 columns",
        None,
    ]


def test_a_line_of_spaces_is_an_empty_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("id,name\nC1,张伟\n   \n\t\nC2,李娜\n", encoding="utf-8")
    records = list(read_records(path))
    assert [(r.line, r.data) for r in records] == [
        (2, {"id": "C1", "name": "张伟"}),
        (5, {"id": "C2", "name": "李娜"}),
    ]


def test_xlsx_first_sheet_with_numbers_as_text(tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "name", "phone", "balance"])
    sheet.append([1001, "张伟", 13812345678, 52300.5])
    sheet.append([None, None, None, None])
    sheet.append(["C2", "李娜", "+86 139 1234 5678", 10])
    book.save(path)
    records = list(read_records(path))
    assert [(r.line, r.data) for r in records] == [
        (2, {"id": "1001", "name": "张伟", "phone": "13812345678", "balance": 52300.5}),
        (4, {"id": "C2", "name": "李娜", "phone": "+86 139 1234 5678", "balance": "10"}),
    ]


def test_xlsx_empty_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    # QA (session 24): a report whose table starts on row 3 had its first, empty row taken
    # for the header, so no column was known.
    path = tmp_path / "report.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.cell(row=3, column=1, value="id")
    sheet.cell(row=3, column=2, value="name")
    sheet.cell(row=4, column=1, value="C1")
    sheet.cell(row=4, column=2, value="张伟")
    book.save(path)
    assert open_source(path).header == ["id", "name"]
    assert [(r.line, r.data) for r in read_records(path)] == [(4, {"id": "C1", "name": "张伟"})]


def test_parquet_rows(tmp_path: Path) -> None:
    path = tmp_path / "accounts.parquet"
    table = pa.table({"id": ["A1", "A2"], "balance": [10.5, None], "customerId": ["C1", "C2"]})
    pq.write_table(table, path)
    assert open_source(path).header == ["id", "balance", "customerId"]
    assert _data(path) == [
        {"id": "A1", "balance": 10.5, "customerId": "C1"},
        {"id": "A2", "balance": None, "customerId": "C2"},
    ]


def test_broken_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(UnsupportedFile, match=r"x\.parquet is not a readable Parquet file"):
        open_source(path)
