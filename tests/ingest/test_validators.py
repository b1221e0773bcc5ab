from datetime import UTC, date, datetime

import pytest

from ingest.validators import (
    birth_date_from_cn_id,
    check_cn_id,
    cn_id_checksum,
    normalize_phone,
    to_iso_date,
    to_utc_iso,
)

GOOD_ID = "11010519491231002X"  # the GB 11643 worked example


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("010-62345678", "+861062345678"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_normalize_phone_good(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "1381234567", "23812345678", "abc", "", "   "])
def test_normalize_phone_bad_never_echoes_number(raw: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize_phone(raw)
    assert raw.strip() == "" or raw not in str(info.value)


def test_cn_id_checksum_and_check() -> None:
    assert cn_id_checksum(GOOD_ID[:17]) == "X"
    assert check_cn_id(GOOD_ID.lower()) == GOOD_ID
    assert birth_date_from_cn_id(GOOD_ID) == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("110105194902300028", "birth date"),
        ("11010519491231002", "17 digits"),
        ("1101051949123100AX", "17 digits"),
        ("110105299912310023", "birth date"),
    ],
)
def test_check_cn_id_bad(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        check_cn_id(raw)
    assert raw not in str(info.value)


def test_to_utc_iso_naive_is_shanghai() -> None:
    assert to_utc_iso("2025-03-01 08:00") == "2025-03-01T00:00:00Z"
    assert to_utc_iso("2025-03-01T08:00:00Z") == "2025-03-01T08:00:00Z"
    assert to_utc_iso("2025/03/01T08:00:00+08:00") == "2025-03-01T00:00:00Z"
    assert to_utc_iso(datetime(2025, 3, 1, 8, tzinfo=UTC)) == "2025-03-01T08:00:00Z"
    with pytest.raises(ValueError, match="ISO-8601"):
        to_utc_iso("yesterday")


def test_to_iso_date() -> None:
    assert to_iso_date("2025/3/1") == "2025-03-01"
    assert to_iso_date("20250301") == "2025-03-01"
    with pytest.raises(ValueError):
        to_iso_date("31.12.2020")


@pytest.mark.parametrize(
    "pattern",
    ["%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%d.%m.%Y %H:%M", "%m%d%H%M", "%Y%m%d"],
)
def test_fixed_width_formats_read_exactly_like_strptime(pattern: str) -> None:
    """The fixed-width reading of %Y%m%d%H%M%S-style formats (a speed path) accepts and
    rejects what strptime does, with the same result: valid values, and values with one
    character replaced (month 13, day 00, a space or dash inside a field, single digits)."""
    import random

    from shared.validators import _fixed_width, _strptime

    assert _fixed_width(pattern) is not None  # the path under test is taken
    rng = random.Random(pattern)
    for _ in range(3000):
        moment = datetime(rng.randint(1000, 2100), rng.randint(1, 12), rng.randint(1, 28),
                          rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))  # fmt: skip
        text = moment.strftime(pattern)
        if rng.random() < 0.6:
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice("0123456789 -3") + text[i + 1 :]
        try:
            expected: datetime | None = datetime.strptime(text, pattern)
        except ValueError:
            expected = None
        try:
            got: datetime | None = _strptime(text, pattern)
        except ValueError:
            got = None
        assert got == expected, text


def test_to_utc_iso_reads_datetimes_and_formats_the_same_way() -> None:
    naive = datetime(2024, 3, 1, 8, 0, 30, 123456)
    assert to_utc_iso(naive) == "2024-03-01T00:00:30Z"  # Shanghai wall time, no microseconds
    assert to_utc_iso(datetime(1985, 6, 1, 12, tzinfo=UTC)) == "1985-06-01T12:00:00Z"
    assert to_utc_iso("20240301080030", ("%Y%m%d%H%M%S",)) == "2024-03-01T00:00:30Z"
    with pytest.raises(ValueError, match="more than a day in the future"):
        to_utc_iso(datetime(2999, 1, 1, tzinfo=UTC))
