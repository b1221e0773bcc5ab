from pathlib import Path

import pytest

from ingest.readers import UnsupportedFile, count_records, read_header, read_records


def test_csv_lines_are_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('\ufeffid,name\n1,张三\n2,"two\nlines"\n3,王五\n', encoding="utf-8")
    records = list(read_records(path))
    assert [(r.line, r.data) for r in records] == [
        (2, {"id": "1", "name": "张三"}),
        (3, {"id": "2", "name": "two\nlines"}),
        (5, {"id": "3", "name": "王五"}),
    ]
    assert read_header(path) == ["id", "name"]
    assert count_records(path) == 3


def test_csv_row_with_extra_values_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name\n1,a,oops\n", encoding="utf-8")
    (record,) = read_records(path)
    assert record.error == "3 values but the header has 2 columns"


def test_jsonl_malformed_lines_do_not_stop_reading(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1"}\n{broken\n\n[1, 2]\n{"id": "2"}\n', encoding="utf-8")
    records = list(read_records(path))
    assert [(r.line, r.data is None, bool(r.error)) for r in records] == [
        (1, False, False),
        (2, True, True),
        (4, True, True),
        (5, False, False),
    ]
    assert "JSON object" in (records[2].error or "")
    assert count_records(path) == 4
    assert read_header(path) is None


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(UnsupportedFile, match=r"c\.xlsx is not a readable spreadsheet"):
        read_records(path)
    with pytest.raises(UnsupportedFile):
        count_records(path)
