"""Pure validators and normalisers for CRM data: phones, PRC resident IDs, times, money.

Every error is a ValueError whose message names what is wrong, never the personal value
itself, so it can go into dead-letter files, logs and GraphQL errors as it is.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
from iso4217 import Currency

from shared.echo import echo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# GB 11643-1999: ISO 7064 MOD 11-2 weights for the first 17 digits, and the check characters.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_OLDEST_BIRTH = date(1900, 1, 1)


# The common case of a Chinese export, a bare 11-digit mobile number, decided with
# libphonenumber's own CN patterns in one step (~1 µs) instead of parse + validate + format
# (~20 µs, the largest cost of a customer row). Only numbers its parser takes as they are:
# none starts with a carrier prefix it strips (1[12]xx, 179xx) or the country code 86, so the
# national number is the text and a match of the general and the mobile pattern makes it valid
# (a test compares both paths on random and real-shaped numbers). Everything else: the library.
_BARE_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")


def _cn_pattern(desc: object) -> tuple[re.Pattern[str], tuple[int, ...]]:
    return re.compile(desc.national_number_pattern), tuple(desc.possible_length)  # type: ignore[attr-defined]


_CN_GENERAL = _cn_pattern(_CN.general_desc) if _CN is not None else None
_CN_MOBILE = _cn_pattern(_CN.mobile) if _CN is not None else None


def _bare_cn_mobile(text: str) -> str | None:
    """``+86`` + ``text`` when it is a valid bare CN mobile number by the patterns; None:
    not decided here."""
    if _CN_GENERAL is None or _CN_MOBILE is None:
        return None
    if not _BARE_CN_MOBILE.fullmatch(text) or text.startswith("179"):
        return None
    for pattern, lengths in (_CN_GENERAL, _CN_MOBILE):
        if (lengths and len(text) not in lengths) or not pattern.fullmatch(text):
            return None
    return "+86" + text


def normalize_phone(raw: str, region: str = "CN") -> str:
    """A valid phone number as E.164 (``+8613812345678``). Numbers without a country code are
    read in ``region``. Raises ValueError("not a valid ... number") for anything else."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("phone number is empty")
    if region == "CN" and (fast := _bare_cn_mobile(text)) is not None:
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        where = "CN mobile or landline" if region == "CN" else f"{region} or international"
        raise ValueError(f"not a valid {where} number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def cn_id_checksum(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits of an ID."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number must be digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _birth_date(id_number: str) -> date:
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError as exc:
        raise ValueError("ID number: digits 7-14 are not a real birth date") from exc
    if born < _OLDEST_BIRTH or born > datetime.now(SHANGHAI).date():
        raise ValueError("ID number: birth date is out of range")
    return born


def check_cn_id(raw: str) -> str:
    """An 18-digit 居民身份证 number, upper-cased (``x`` -> ``X``): checks the format, that
    digits 7-14 are a real birth date, and the GB 11643 MOD 11-2 check character."""
    text = (raw or "").strip().upper()
    if not _ID_RE.fullmatch(text):
        raise ValueError("ID number must be 17 digits followed by a digit or X")
    _birth_date(text)
    if cn_id_checksum(text[:17]) != text[17]:
        raise ValueError("ID number check digit does not match (GB 11643)")
    return text


# A first-generation (1984-2004) 15-digit number: a 6-digit area code, YYMMDD (born in the
# 1900s) and a 3-digit sequence, no check character. Its area code's province part is one of
# GB/T 2260's (11-15 north, 21-23 north-east, 31-37 east, 41-46 south-central, 50-54
# south-west, 61-65 north-west, 71 Taiwan, 81-82 Hong Kong and Macao).
_OLD_ID_RE = re.compile(r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])\d{13}")


def cn_id_from_15(old: str) -> str:
    """The 18-digit number of a first-generation 15-digit ID ("110105850312123" ->
    "110105198503121230"): "19" before its YY and the GB 11643 check character appended, as
    the number was re-issued. ValueError when it is not 15 digits of a province's area code,
    a real date and a sequence (an order or card number of 15 digits mostly is not)."""
    if not _OLD_ID_RE.fullmatch(old):
        raise ValueError("not a 15-digit ID number of a province's area code")
    first17 = old[:6] + "19" + old[6:]
    _birth_date(first17 + "0")
    return first17 + cn_id_checksum(first17)


class _AsciiFold(dict[int, int]):
    """A ``str.translate`` table: a decimal digit of any script (category Nd: full-width
    "１", Arabic-Indic "٦") becomes its ASCII digit; another character whose NFKC form is one
    ASCII character (full-width ｗｅｉｂｏ．ｃｏｍ／ｕ, "＠", "？") becomes that character,
    but for one that is a digit only so (a superscript "³", a circled "①": no digit of a
    number, stays); any other stays. One character for one, so an offset in the folded text
    is the same offset in the text. Filled as characters are met."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        if unicodedata.category(char) == "Nd":
            self[code] = ord(str(unicodedata.decimal(char)))
            return self[code]
        folded = unicodedata.normalize("NFKC", char)
        one = len(folded) == 1 and folded.isascii() and not folded.isdigit()
        self[code] = ord(folded) if one else code
        return self[code]


ASCII_FOLD = _AsciiFold()


def ascii_fold(text: str) -> str:
    """``text`` with :data:`ASCII_FOLD`: the text numbers and links are looked for in."""
    return text if text.isascii() else text.translate(ASCII_FOLD)


_ID_SEPARATORS = re.compile(r"[\s\-./_]")


def cn_id_token(written: str) -> str:
    """An ID number as a note or a search writes it ("110105 19850312 1234", "１１０１０５…",
    "…002x", the 15-digit "110105-850312-123") as the idNumber field holds it: NFKC, without
    the spaces, dashes, dots, slashes and underscores shared/post_text.py allows between its
    characters, upper case, and a first-generation number as its 18-digit equivalent
    (:func:`cn_id_from_15`). The one rule for an ID's hash token and search; anything else is
    returned the same way, not checked."""
    text = _ID_SEPARATORS.sub("", ascii_fold(unicodedata.normalize("NFKC", written))).upper()
    if len(text) == 15:
        try:
            return cn_id_from_15(text)
        except ValueError:
            return text
    return text


def birth_date_from_cn_id(id_number: str) -> date:
    """The birth date encoded in a (validated) 18-digit ID number."""
    return _birth_date(check_cn_id(id_number))


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]|$)")
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{8}$")
# A date and time without leading zeros, as Excel shows them (zh-CN: "2025/3/1 9:05"),
# after "/" became "-"; fromisoformat wants two digits each.
_SHORT_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
# An ISO week date (2025-W09-6, 2025W096): fromisoformat reads it as a time at midnight, so a
# date-only value was stored shifted, 2025-02-28T16:00:00Z (QA, session 26). No export writes
# one meaning a time; refused.
_WEEK_DATE = re.compile(r"\d{4}-?W\d")
WEEK_DATE = "an ISO week date (2025-W09-6) is not read: give the date as YYYY-MM-DD"
# Said after the refusal in the same reason (a dead letter splits its reasons at "; ").
_OTHER_FORMATS = (
    ' - an import reads other formats by its mapping\'s time_formats = ["%d.%m.%Y %H:%M"]'
)
# The same for a date (birthDate: "12/03/1985" was "not a date (use YYYY-MM-DD)", no word of
# the option that reads it: QA, session 26).
_OTHER_DATE_FORMATS = (
    ' - an import reads other formats by its mapping\'s date_formats = ["%d/%m/%Y"]'
)
# Times more than this far ahead of the clock are typos or wrong formats, not data.
FUTURE_SLACK = timedelta(days=1)


# Already in the stored form: checked with one regex and one string comparison (the common
# case of a bulk import, ~1 µs instead of parse + convert + format).
_CANONICAL = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"
)


def _future_limit(minute: int) -> str:
    return (datetime.fromtimestamp(minute * 60, UTC) + FUTURE_SLACK).strftime("%Y-%m-%dT%H:%M:%SZ")


_future_limit_cached = functools.lru_cache(maxsize=2)(_future_limit)


# strptime costs ~8 µs a value (it builds and matches a regex of every directive's variants),
# the largest cost of a mapped import. Patterns made only of %Y %m %d %H %M %S and literal
# characters are read field by field at fixed widths instead; any value that does not fit
# falls back to strptime, so what is accepted, and how, does not change (for a value whose
# fields all fit their two- or four-digit widths, strptime's first choice is the same split).
_FIXED = {"Y": r"(\d{4})", "m": r"(\d{2})", "d": r"(\d{2})", "H": r"(\d{2})",
          "M": r"(\d{2})", "S": r"(\d{2})"}  # fmt: skip
_DIRECTIVE = re.compile(r"%(.)")


@functools.lru_cache(maxsize=64)
def _fixed_width(pattern: str) -> tuple[re.Pattern[str], tuple[int, ...]] | None:
    """A regex and the datetime argument positions for a fixed-width ``pattern`` (None: the
    pattern has other directives, or repeats one; strptime reads it)."""
    order = "YmdHMS"
    found = _DIRECTIVE.findall(pattern)
    if not found or any(d not in _FIXED for d in found) or len(set(found)) != len(found):
        return None
    parts = re.split(r"%[YmdHMS]", pattern)
    regex = re.escape(parts[0]) + "".join(
        _FIXED[d] + re.escape(rest) for d, rest in zip(found, parts[1:], strict=True)
    )
    return re.compile(regex), tuple(order.index(d) for d in found)


def _strptime(text: str, pattern: str) -> datetime:
    fixed = _fixed_width(pattern)
    if fixed is not None:
        match = fixed[0].fullmatch(text)
        if match is not None:
            fields = [1900, 1, 1, 0, 0, 0]
            for position, digits in zip(fixed[1], match.groups(), strict=True):
                fields[position] = int(digits)
            try:
                year, month, day, hour, minute, second = fields
                return datetime(year, month, day, hour, minute, second)
            except ValueError:
                pass  # e.g. month 13: strptime decides (it may split the digits otherwise)
    return datetime.strptime(text, pattern)


def _parse_formats(text: str, formats: tuple[str, ...]) -> datetime | None:
    for pattern in formats:
        try:
            return _strptime(text, pattern)
        except ValueError:
            continue
    return None


def _plausible_time(moment: datetime) -> None:
    """Times (and, by :func:`_plausible_day`, dates) from 1800 to a day ahead of the clock."""
    if moment.year < 1800:
        raise ValueError("time is before 1800")
    # The cached limit is a minute coarse and a day generous: the verdict of now() + slack.
    limit = _future_limit_moment(int(time.time() // 60))
    if moment > limit and moment > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError("time is more than a day in the future")


@functools.lru_cache(maxsize=2)
def _future_limit_moment(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC) + FUTURE_SLACK


def to_utc_iso(
    value: datetime | date | str,
    formats: tuple[str, ...] = (),
    zone: ZoneInfo = SHANGHAI,
    date_formats: tuple[str, ...] = (),
    *,
    dates_at_midnight: bool = False,
    advice: str = _OTHER_FORMATS,
) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, or a date-only value as ``YYYY-MM-DD``.

    Accepts datetimes, dates and ISO-8601-like strings (``2025-03-01 08:00``,
    ``2025/03/01T08:00:00+08:00``, ``...Z``), or strings in one of ``formats`` (strptime
    patterns). Times without an offset are wall-clock times in ``zone`` (default
    Asia/Shanghai, because Chinese CRM exports write local times). A date without a time stays
    a date: converting it would move 1993-01-01 to 1992-12-31T16:00:00Z (the CRM rule: an
    account's ``openedAt`` is a calendar day). With ``dates_at_midnight`` (the social rule: a
    post's ``created_at`` is an instant) a date-only value is the time 00:00 of that day in
    ``zone``, like any other time without an offset. Whatever the format,
    refuses times and dates before 1800 or more than a day in the future, and wall-clock
    times ``zone`` skips (see :func:`_localize`). ``advice`` ends the refusal of a value in no
    format when ``formats`` are not given: where other formats can be given (an import's
    mapping; a webhook has none and says what it takes instead)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        if dates_at_midnight:
            return to_utc_iso(datetime(value.year, value.month, value.day), zone=zone)
        return _plausible_day(value).isoformat()
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("time is empty")
        if not formats and not date_formats and _CANONICAL.match(text):
            # The limit is a minute coarse and a day generous: same verdict as the slow path.
            if text > _future_limit_cached(int(time.time() // 60)):
                raise ValueError("time is more than a day in the future")
            if text < "1800":
                raise ValueError("time is before 1800")
            if text[8:10] <= "28" or _real_day(text):
                return text
            raise ValueError(f"no such day: {text[:10]}")
        day = _parse_formats(text, date_formats) if date_formats else None
        if day is not None:
            if dates_at_midnight:
                return to_utc_iso(day, zone=zone)
            return _plausible_day(day.date()).isoformat()
        parsed = _parse_formats(text, formats) if formats else None
        if parsed is None:
            if _WEEK_DATE.match(text):
                raise ValueError(WEEK_DATE)
            text = text.replace("/", "-")
            if _DATE_ONLY.match(text):
                calendar_day = date.fromisoformat(to_iso_date(text))
                if dates_at_midnight:
                    return to_utc_iso(calendar_day, zone=zone, dates_at_midnight=True)
                return _plausible_day(calendar_day).isoformat()
            short = _SHORT_TIME.fullmatch(text)
            try:
                if short is not None:
                    y, mo, d, h, mi, s = (int(p or 0) for p in short.groups())
                    parsed = datetime(y, mo, d, h, mi, s)
                else:
                    parsed = datetime.fromisoformat(text)
            except ValueError as exc:
                if _ISO_DAY.match(text) and not _real_day(text):
                    raise ValueError(f"no such day: {text[:10]}") from exc  # 2025-02-30
                hint = f"the format {formats[0]}" if formats else "ISO-8601"
                other = "" if formats else advice
                raise ValueError(
                    f"not a time in {hint} (e.g. 2025-03-01T08:00:00+08:00){other}"
                ) from exc
        dt = parsed
    if dt.tzinfo is None:
        dt = _localize(dt, zone)
    utc = dt.astimezone(UTC)
    _plausible_time(utc)
    if utc.year >= 1000:  # isoformat is ~4x faster than strftime, and the same from year 1000
        return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _real_day(text: str) -> bool:
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _plausible_day(day: date) -> date:
    """The plausibility rule of times, for a date-only value in a time field (whatever format
    it came in): from 1800 to no more than a day ahead of the clock."""
    if day.year < 1800:
        raise ValueError("date is before 1800")
    if day > datetime.now(UTC).date() + FUTURE_SLACK:
        raise ValueError("date is more than a day in the future")
    return day


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone``. A time the zone skips (the hour a daylight-saving change
    jumps over, e.g. 2025-03-30 02:30 in Europe/Prague) is refused: no instant had it, so the
    export is wrong. A time the zone repeats (the hour after the change back) is read as its
    first occurrence (daylight time, PEP 495's fold=0), the reading an export without offsets
    most often means; a file that needs the second gives offsets."""
    local = naive.replace(tzinfo=zone)
    if local.utcoffset() == naive.replace(tzinfo=zone, fold=1).utcoffset():
        return local  # the common case: no change of offset around this time
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"time does not exist in {zone.key} (skipped by a daylight-saving change); "
            "give the time with its offset"
        )
    return local


def to_iso_date(value: date | str, formats: tuple[str, ...] = ()) -> str:
    """A calendar date as ``YYYY-MM-DD`` (accepts ``2025/3/1`` and ``20250301`` too, or one of
    ``formats``). Eight digits only for the compact form: ``706213`` is not a date."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    parsed = _parse_formats(text, formats) if formats else None
    if parsed is None:
        compact = ("%Y%m%d",) if len(text) == 8 and text.isdigit() else ()
        parsed = _parse_formats(text, ("%Y-%m-%d", "%Y/%m/%d", *compact))
    if parsed is None:
        hint = formats[0] if formats else "YYYY-MM-DD"
        raise ValueError(f"not a date (use {hint}){'' if formats else _OTHER_DATE_FORMATS}")
    return parsed.date().isoformat()


def is_web_link(value: str) -> bool:
    """Whether ``value`` is an http(s) link with a host: a post's link is a web page, and any
    other scheme (``javascript:``, ``data:``, ``file:``) is no post's (a client showing it as
    a link would run or open it). The rule of ingest (ingest/social/model.py) and of posts
    stored before it (graph/repositories/social.py ``upgrade_stored_posts``)."""
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# ISO 4217 minor units per currency code (None: the code has none: metals, funds, test codes).
MINOR_UNITS: dict[str, int | None] = {c.code: c.exponent for c in Currency}
# Names Chinese exports use for the yuan: read as its ISO code (documented in the README).
CURRENCY_ALIASES = {"RMB": "CNY", "人民币": "CNY"}


def check_currency(raw: str) -> str:
    """An ISO 4217 code for money amounts, upper-cased (``rmb``/``RMB``/``人民币`` -> ``CNY``).
    Refuses unknown codes and the codes ISO gives no minor unit (XAU, XDR, XTS, XXX, ...)."""
    text = (raw or "").strip().upper()
    code = CURRENCY_ALIASES.get(text, text)
    if code not in MINOR_UNITS:
        raise ValueError("not an ISO 4217 currency code (e.g. CNY, USD, EUR, JPY)")
    if MINOR_UNITS[code] is None:
        raise ValueError(
            f"{code} has no minor unit in ISO 4217 (a metal, fund or test code), so it is not "
            "a currency for money amounts"
        )
    return code


# The graph stores amounts as 64-bit floats, which give back 15 significant digits exactly.
MONEY_DIGITS = 15


def check_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` unchanged when ``currency`` (a :func:`check_currency` code) can hold it, no
    more decimals than its ISO 4217 minor unit (CNY 0.01, JPY 1, KWD 0.001), and the graph's
    number keeps every digit (at most 15 significant: 1e400 would be infinity,
    12345678901234.56 would lose its cents). Never rounds: a bank's ledger does not invent or
    drop fractions of a minor unit. Trailing zeros do not count (``1.500`` is 1.50)."""
    allowed = MINOR_UNITS[currency] or 0
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError("not a finite number")
    if exponent >= -allowed and len(digits) + max(exponent, 0) <= MONEY_DIGITS:
        return amount  # the common case, decided without looking at the digits
    zeros = 0
    while zeros < len(digits) - 1 and digits[-1 - zeros] == 0:
        zeros += 1
    places = max(-exponent - zeros, 0)
    if places > allowed:
        unit = f"{Decimal(1).scaleb(-allowed):f}"
        raise ValueError(
            f"more decimals than {currency} has (its ISO 4217 minor unit is {unit}); "
            "amounts are never rounded"
        )
    if len(digits) - zeros + max(exponent + zeros, 0) > MONEY_DIGITS:
        raise ValueError(f"more than {MONEY_DIGITS} digits: too large to store exactly")
    return amount


def check_birth_date(iso_day: str) -> str:
    """A birth date from 1900-01-01 to today."""
    day = date.fromisoformat(iso_day)
    if day < _OLDEST_BIRTH or day > datetime.now(SHANGHAI).date():
        raise ValueError("birth date must be between 1900-01-01 and today")
    return iso_day


# Longer values are refused (a dead letter in an import, BAD_USER_INPUT from the API): no c360
# field is anywhere near this long. One check for both, so a value the import refuses cannot
# come in through upsertCustomer instead.
MAX_FIELD_CHARS = 100_000


def field_too_long(name: str, value: str) -> str | None:
    """``"name: 200000 characters (limit 100000)"`` for a value over the limit, else None."""
    if len(value) > MAX_FIELD_CHARS:
        return f"{name}: {len(value)} characters (limit {MAX_FIELD_CHARS})"
    return None


# Why a customer id differing only by case from another is refused, in every such refusal
# (imports, upsertCustomer).
NO_CASE_TWIN = "customer ids are compared without case, so no second customer was made"


def case_twin_parent(name: str, value: str, twin: str | None) -> str:
    """Why a row or a write naming the customer ``value`` in ``name`` is refused when only
    ``twin``, differing from it only by case, is stored (an import's missing parent, the
    API's logInteraction, linkSocialAccount, proposeErasure): that is the customer meant,
    and none is created or written to under the other spelling. ``twin`` None: the caller
    may not read that customer, so it is not named."""
    why = "customer ids are compared without case, so none is created"
    if twin is None:
        return (
            f"{name}: no customer {echo(value)}; a customer whose id differs from it only by "
            f"case exists ({why})"
        )
    return (
        f"{name}: no customer {echo(value)}; {echo(twin)} differs only by case ({why}): "
        f"write {echo(twin)}"
    )


def id_key(record_id: str) -> str:
    """How a record id is compared where a case slip must not bring a record back (an erased
    customer's id against the erasure ledger): case-folded, so ``c900002`` is ``C900002``."""
    return record_id.casefold()


def has_format_character(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds a Unicode format character (Cf: bidi overrides such as U+202E,
    zero-width spaces) other than those in ``allowed``: invisible, they make an id or a handle
    read as another. The one rule for key ids (:func:`id_reason`) and for social post ids and
    handles (ingest/social/model.py ``check_id``)."""
    return any(unicodedata.category(ch) == "Cf" and ch not in allowed for ch in text)


def not_nfkc(text: str) -> bool:
    """Whether ``text`` changes under Unicode NFKC (full-width ``Ｃ９``, look-alikes): the one
    test of key ids (:func:`id_reason`) and social handles (ingest/social/model.py
    ``check_handle``), which refuse such text rather than store a twin that looks the same."""
    return not text.isascii() and unicodedata.normalize("NFKC", text) != text


def id_reason(name: str, value: str) -> str | None:
    """Why ``value`` cannot be written as a record id (``"name: reason"``, never the value),
    else None. Refused: control and formatting characters (Unicode Cc, Cf: zero-width
    spaces, bidi overrides), which make an id that looks like another, and ids not in NFKC
    form (full-width ``Ｃ９00001`` beside ``C900001``; QA, session 21: both were stored as
    twins that look the same). The API's writes and the imports check keys with this one
    rule; ids already stored are read as they are."""
    text = value.strip()
    if text.isascii() and text.isprintable():
        return None  # almost every id: none of either
    if has_format_character(text) or any(unicodedata.category(ch) == "Cc" for ch in text):
        return (
            f"{name}: contains an invisible control or formatting character (e.g. U+200B, "
            "U+202E); write the id without it"
        )
    if not_nfkc(text):
        return (
            f"{name}: contains a full-width or look-alike character (not in Unicode NFKC "
            "form, e.g. Ｃ or ９); write the id in plain characters"
        )
    return None


__all__ = [
    "ASCII_FOLD",
    "CURRENCY_ALIASES",
    "FUTURE_SLACK",
    "MAX_FIELD_CHARS",
    "MINOR_UNITS",
    "MONEY_DIGITS",
    "NO_CASE_TWIN",
    "SHANGHAI",
    "ascii_fold",
    "birth_date_from_cn_id",
    "case_twin_parent",
    "check_birth_date",
    "check_cn_id",
    "check_currency",
    "check_money",
    "cn_id_checksum",
    "cn_id_from_15",
    "cn_id_token",
    "field_too_long",
    "has_format_character",
    "id_key",
    "id_reason",
    "is_web_link",
    "normalize_phone",
    "not_nfkc",
    "to_iso_date",
    "to_utc_iso",
]
