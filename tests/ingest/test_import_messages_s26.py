"""QA session 26 on `c360 import` messages and time oddities: each says what to do next."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.readers import UnsupportedFile, open_source, read_records
from shared.validators import to_utc_iso


@pytest.mark.parametrize("value", ["2025-W09-6", "2025W096", "2025-W09-6T10:00:00Z"])
def test_an_iso_week_date_is_refused_not_stored_shifted(value: str) -> None:
    # It was read as midnight in Asia/Shanghai: 2025-02-28T16:00:00Z, a day early.
    with pytest.raises(ValueError, match=r"an ISO week date .* give the date as YYYY-MM-DD"):
        to_utc_iso(value)
    assert to_utc_iso("2025-03-01") == "2025-03-01"  # a date stays a date


def test_a_fraction_of_a_second_is_dropped_as_the_readme_says() -> None:
    assert to_utc_iso("2025-03-01T08:00:00.123Z") == "2025-03-01T08:00:00Z"


def test_a_trailing_dos_end_of_file_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "dos.csv"
    path.write_bytes(b"id,name,phone,email\r\nD1,A,13812345678,a@example.com\r\n\x1a")
    records = list(read_records(path))
    assert [(r.line, r.error) for r in records] == [(2, None)]  # was a dead letter on line 3


def test_an_empty_first_sheet_says_that_the_first_sheet_is_read(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.create_sheet("data").append(["id", "name"])
    book["data"].append(["S1", "甲"])
    path = tmp_path / "empty_first.xlsx"
    book.save(path)
    with pytest.raises(UnsupportedFile, match="its first sheet is empty, and c360 reads the first"):
        open_source(path)


def test_a_mapping_not_in_utf8_says_how_to_convert_it(tmp_path: Path) -> None:
    from ingest.mapping import ColumnMapping, MappingError

    path = tmp_path / "map_gbk.toml"
    path.write_bytes('[columns]\n"客户编号" = "id"\n'.encode("gbk"))
    with pytest.raises(MappingError) as refused:
        ColumnMapping.load(path)
    assert str(refused.value) == (
        "mapping file map_gbk.toml is not UTF-8 text: save it as UTF-8 (e.g. iconv -f gbk -t "
        "utf-8 map_gbk.toml > map_gbk-utf8.toml) and give that file"
    )


async def test_a_birth_date_in_another_format_names_date_formats_and_as_of_no_mapping(
    store: GraphStore, tmp_path: Path
) -> None:
    from ingest.crm import ImportRefused, import_file
    from tests.dead_letters import dead_letters

    path = tmp_path / "bdates.csv"
    path.write_text("id,name,birthDate\nB1,甲,12/03/1985\n", encoding="utf-8")
    await import_file(store, "customers", path)
    [letter] = dead_letters(tmp_path / "bdates.dead.jsonl")
    assert letter["reasons"] == [
        "birthDate: not a date (use YYYY-MM-DD) - an import reads other formats by its "
        'mapping\'s date_formats = ["%d/%m/%Y"]'
    ]
    with pytest.raises(ImportRefused) as refused:
        await import_file(store, "customers", path, as_of="yesterday")
    assert str(refused.value) == (
        "--as-of: not a time in ISO-8601 (e.g. 2025-03-01T08:00:00+08:00)"
    )


def test_pydantic_phrasings_are_said_as_what_to_write() -> None:
    from pydantic import ValidationError

    from shared.records import AccountRecord, CustomerRecord, validation_reasons

    def reasons(model: type[AccountRecord] | type[CustomerRecord], data: dict) -> list[str]:
        with pytest.raises(ValidationError) as refused:
            model.model_validate(data)
        return validation_reasons(refused.value)

    account = {"id": "A1", "customerId": "C1", "type": "SAVINGS"}
    # An .xlsx TRUE cell, a JSON true: "Decimal input should be an integer, float, string..."
    assert reasons(AccountRecord, {**account, "balance": True}) == [
        "balance: not a number (e.g. 1234.50)"
    ]
    # "Input should be a valid boolean, unable to interpret input"
    assert reasons(CustomerRecord, {"id": "C1", "consentMarketing": "maybe"}) == [
        "consentMarketing: not a yes/no value: write true/false, 1/0, Y/N, yes/no or 是/否"
    ]
    # "Field required"
    assert reasons(CustomerRecord, {"name": "x"}) == ["id: missing (a value is required)"]


async def test_a_default_the_model_refuses_refuses_the_mapping_once(
    store: GraphStore, tmp_path: Path
) -> None:
    from ingest.crm import import_file
    from ingest.mapping import ColumnMapping, MappingError

    path = tmp_path / "phones.csv"
    path.write_text("id,phone\nV1,13812345678\nV2,13812345679\n", encoding="utf-8")
    mapping = ColumnMapping.from_dict({"defaults": {"riskProfile": "超激进"}}, "def.toml", None)
    with pytest.raises(MappingError) as refused:
        await import_file(store, "customers", path, mapping)
    assert str(refused.value) == (
        "def.toml: [defaults] riskProfile = '超激进' cannot be imported (riskProfile: must be "
        "one of 保守, 激进, 稳健 (risk)); correct the value in the mapping"
    )
    assert not (tmp_path / "phones.dead.jsonl").exists()  # every row was a dead letter
    assert await store.read("MATCH (c:Customer) RETURN c.id AS id") == []
