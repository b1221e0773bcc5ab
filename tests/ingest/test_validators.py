from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ingest.validators import (
    SHANGHAI,
    birth_date_from_cn_id,
    check_cn_id,
    cn_id_checksum,
    normalize_phone,
    to_iso_date,
    to_utc_iso,
)
from shared.validators import check_currency, check_money, cn_id_from_15, cn_id_token

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


def _ahead(days: int) -> date:
    return (datetime.now(UTC) + timedelta(days=days)).date()


@pytest.mark.parametrize(
    ("value", "formats", "date_formats"),
    [
        (lambda d: d.isoformat(), (), ()),  # 2099-01-01: was accepted as a date
        (lambda d: d.strftime("%Y/%m/%d"), (), ()),
        (lambda d: d.strftime("%Y%m%d"), (), ()),
        (lambda d: d, (), ()),  # a date object (a spreadsheet cell)
        (lambda d: d.strftime("%d.%m.%Y"), (), ("%d.%m.%Y",)),  # a mapping's date format
        (lambda d: d.strftime("%Y-%m-%dT00:00:00Z"), (), ()),
        (lambda d: d.strftime("%d.%m.%Y 08:00"), ("%d.%m.%Y %H:%M",), ()),
        (lambda d: datetime(d.year, d.month, d.day, 8), (), ()),
    ],
)
def test_every_time_and_date_format_refuses_the_future(
    value: Callable[[date], str | date], formats: tuple[str, ...], date_formats: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="more than a day in the future"):
        to_utc_iso(value(_ahead(3)), formats, SHANGHAI, date_formats)
    assert to_utc_iso(value(date(2024, 2, 29)), formats, SHANGHAI, date_formats)


def test_times_and_dates_before_1800_are_refused_in_every_format() -> None:
    for value in ("1700-01-01", "1700-01-01T00:00:00Z", "1700-01-01 08:00", date(1700, 1, 1)):
        with pytest.raises(ValueError, match="before 1800"):
            to_utc_iso(value)


def test_a_wall_clock_time_the_zone_skips_is_refused_and_a_repeated_one_is_the_first() -> None:
    prague = ZoneInfo("Europe/Prague")
    # 2025-03-30 02:00 -> 03:00 in Prague: 02:30 never happened there.
    with pytest.raises(ValueError, match="does not exist in Europe/Prague"):
        to_utc_iso("30.03.2025 02:30", ("%d.%m.%Y %H:%M",), prague)
    with pytest.raises(ValueError, match="does not exist in Europe/Prague"):
        to_utc_iso("2025-03-30 02:30", (), prague)
    assert to_utc_iso("30.03.2025 01:59", ("%d.%m.%Y %H:%M",), prague) == "2025-03-30T00:59:00Z"
    assert to_utc_iso("30.03.2025 03:00", ("%d.%m.%Y %H:%M",), prague) == "2025-03-30T01:00:00Z"
    # 2025-10-26 03:00 -> 02:00: 02:30 happened twice; the first (summer time, +02:00) is read.
    assert to_utc_iso("26.10.2025 02:30", ("%d.%m.%Y %H:%M",), prague) == "2025-10-26T00:30:00Z"
    assert to_utc_iso("2025-10-26T02:30:00+01:00", (), prague) == "2025-10-26T01:30:00Z"
    # Shanghai kept summer time 1986-1991: the default zone is checked the same way.
    with pytest.raises(ValueError, match="does not exist in Asia/Shanghai"):
        to_utc_iso("1988-04-17 02:30")


@pytest.mark.parametrize(
    ("raw", "code"), [("CNY", "CNY"), ("cny", "CNY"), ("rmb", "CNY"), ("RMB", "CNY"),
                      ("人民币", "CNY"), ("jpy", "JPY"), ("KWD", "KWD")],
)  # fmt: skip
def test_currency_codes_are_iso_4217_and_rmb_is_the_yuan(raw: str, code: str) -> None:
    assert check_currency(raw) == code


@pytest.mark.parametrize("raw", ["ZZZ", "CNH", "RM", "", "XAU", "XXX", "XTS"])
def test_unknown_currencies_and_codes_without_a_minor_unit_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        check_currency(raw)


@pytest.mark.parametrize(
    ("amount", "currency", "fits"),
    [("1.00", "CNY", True), ("1.500", "CNY", True), ("-3200", "CNY", True),
     ("0.004", "CNY", False), ("1.005", "CNY", False), ("0.0000001", "USD", False),
     ("100", "JPY", True), ("1E+3", "KRW", True), ("1.5", "JPY", False),
     ("1.005", "KWD", True), ("1.0005", "BHD", False), ("0.01", "EUR", True)],
)  # fmt: skip
def test_amounts_have_no_more_decimals_than_the_currency(
    amount: str, currency: str, fits: bool
) -> None:
    if fits:
        assert check_money(Decimal(amount), currency) == Decimal(amount)
    else:
        with pytest.raises(ValueError, match=f"more decimals than {currency} has"):
            check_money(Decimal(amount), currency)


def test_amounts_the_graph_cannot_store_exactly_are_refused() -> None:
    for fits in ("1234567890123.45", "1234567890123.4500000", "0.05", "999999999999999"):
        assert check_money(Decimal(fits), "CNY") == Decimal(fits)
    for too_big in ("12345678901234.56", "1e400", "1E+20", "1000000000000000"):
        with pytest.raises(ValueError, match="more than 15 digits"):
            check_money(Decimal(too_big), "CNY")


def test_an_old_15_digit_id_number_reads_as_its_18_digit_equivalent() -> None:
    # "19" before YY, the GB 11643 check character computed: a valid 18-digit number.
    assert cn_id_from_15("110105850312123") == check_cn_id("110105198503121234")
    assert birth_date_from_cn_id(cn_id_from_15("440301000228001")) == date(1900, 2, 28)
    assert birth_date_from_cn_id(cn_id_from_15("440301960229001")) == date(1996, 2, 29)
    # 30 February, 1900 no leap year, 91 no province, 14 digits, a check character.
    for not_one in ("110105850230123", "440301000229001", "910105850312123", "11010585031212",
                    "11010585031212x"):  # fmt: skip
        with pytest.raises(ValueError):
            cn_id_from_15(not_one)
    # One rule for a hash token and a search: separators, full width, "x", the old form.
    assert cn_id_token("１１０１０５-850312 123") == "110105198503121234"
    assert cn_id_token("11010519900102002x") == "11010519900102002X"
    assert cn_id_token("110105850230123") == "110105850230123"  # no date: as written
