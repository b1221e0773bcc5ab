"""Mappings ([source], [sql], unknown fields) and the value checks they lean on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.crm import KINDS, check_mapping, validate
from ingest.mapping import ColumnMapping, MappingError
from ingest.readers import RawRecord
from ingest.records import CustomerRecord, TransactionRecord
from ingest.validators import to_iso_date, to_utc_iso


def _mapping(tmp_path: Path, text: str) -> ColumnMapping:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return ColumnMapping.load(path)


def test_unknown_target_field_refuses_the_mapping_and_names_the_valid_ones(
    tmp_path: Path,
) -> None:
    mapping = _mapping(tmp_path, '[columns]\n"jmeno" = "fullName"\n')
    with pytest.raises(MappingError) as info:
        check_mapping("customers", mapping)
    message = str(info.value)
    assert "'fullName'" in message and "[columns]" in message
    assert "valid fields: id, name, gender, birthDate" in message
    for section in ('[defaults]\nnickname = "x"\n', '[values.colour]\n"1" = "red"\n'):
        with pytest.raises(MappingError, match="which customers does not have"):
            check_mapping("customers", _mapping(tmp_path, section))
    check_mapping("customers", _mapping(tmp_path, '[columns]\n"jmeno" = "name"\n'))


def test_source_section_is_checked(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="unknown key"):
        _mapping(tmp_path, '[source]\nseparator = ";"\n')
    with pytest.raises(MappingError, match="not an IANA zone"):
        _mapping(tmp_path, '[source]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(MappingError, match="one character"):
        _mapping(tmp_path, '[source]\ndelimiter = ";;"\n')
    with pytest.raises(MappingError, match=r"\[sql\] holds one key"):
        _mapping(tmp_path, '[sql]\nselect = "x"\n')
    mapping = _mapping(
        tmp_path,
        '[source]\nencoding = "gb18030"\ndelimiter = "tab"\ndate_format = "%y%m%d"\n'
        '[sql]\nquery = "SELECT 1 AS id"\n',
    )
    assert mapping.read_options().delimiter == "\t"
    assert mapping.read_options(delimiter=";").delimiter == ";"
    assert mapping.source.date_formats == ("%y%m%d",)
    assert mapping.sql == "SELECT 1 AS id"
    assert mapping.folder == tmp_path


def test_formats_and_zone_of_the_mapping_apply_to_dates_and_times(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        '[source]\ndate_formats = ["%y%m%d"]\ntime_formats = ["%d.%m.%Y %H:%M"]\n'
        'timezone = "Europe/Prague"\n'
        '[columns]\n"id_transakce" = "id"\n"ucet" = "accountId"\n"datum" = "time"\n',
    )
    row = mapping.apply({"id_transakce": "1", "ucet": "U1", "datum": "01.07.1995 10:00"})
    assert row["time"] == "1995-07-01T08:00:00Z"  # CEST, UTC+2
    assert mapping.apply({"datum": "930101"})["time"] == "1993-01-01"  # a date stays a date
    with pytest.raises(ValueError, match=r"^time: not a time in the format %d\.%m\.%Y %H:%M"):
        mapping.apply({"datum": "yesterday"})
    fields = KINDS["transactions"].fields
    assert mapping.ignored(["id_transakce", "ucet", "datum", "okres"], fields) == ["okres"]
    reasons = validate(KINDS["transactions"], mapping, RawRecord(7, {"datum": "nonsense"}))[1]
    # The format's reason, and the other fields' beside it (every problem of the record).
    assert reasons == [
        "time: not a time in the format %d.%m.%Y %H:%M (e.g. 2025-03-01T08:00:00+08:00)",
        *(f"{n}: missing (a value is required)" for n in ("id", "accountId", "amount", "kind")),
    ]


def test_date_only_values_stay_dates_and_naive_times_read_in_shanghai() -> None:
    assert to_utc_iso("1993-01-01") == "1993-01-01"
    assert to_utc_iso("1993/1/1") == "1993-01-01"
    assert to_utc_iso("19930101") == "1993-01-01"
    assert to_utc_iso("1993-01-01 08:00") == "1993-01-01T00:00:00Z"
    assert to_utc_iso("1993-01-01T08:00:00Z") == "1993-01-01T08:00:00Z"


def test_plausibility_checks() -> None:
    soon = datetime.now(UTC) + timedelta(hours=20)
    later = datetime.now(UTC) + timedelta(days=3)
    assert to_utc_iso(soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with pytest.raises(ValueError, match="more than a day in the future"):
        to_utc_iso(later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with pytest.raises(ValueError, match="not a date"):
        to_iso_date("706213")  # six digits are not YYYYMMDD
    for born in ("1899-12-31", (datetime.now(UTC) + timedelta(days=3)).date().isoformat()):
        with pytest.raises(ValidationError, match="between 1900-01-01 and today"):
            CustomerRecord.model_validate({"id": "C1", "birthDate": born})
    for amount in ("inf", "nan", "-inf"):
        with pytest.raises(ValidationError, match="amount"):
            TransactionRecord.model_validate(
                {"id": "T1", "accountId": "A1", "amount": amount, "time": "2025-01-01",
                 "kind": "FEE"}
            )  # fmt: skip
