"""Masking: one pure function per mode, and ``apply_mask`` to pick one (unknown -> redact)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from privacy.cn_regions import province_and_city
from shared.post_text import replace_personal
from shared.validators import ascii_fold, cn_id_token

__all__ = [
    "OWN_KINDS",
    "QUOTED_KINDS",
    "apply_mask",
    "band",
    "band_range",
    "hash_token",
    "mask_mentions",
    "mask_quoted",
    "partial",
    "redact",
    "reveal",
    "year",
]

_WAN = Decimal(10_000)
# Upper bounds in 万 and their labels; the last band is open.
_BANDS = [(1, "<1万"), (5, "1万-5万"), (10, "5万-10万"), (50, "10万-50万"),
          (100, "50万-100万"), (500, "100万-500万")]  # fmt: skip
_TOP_BAND = ">500万"
_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")


def reveal(value: Any) -> Any:
    return value


def redact(value: Any) -> None:
    return None


def _stars(text: str, keep_start: int, keep_end: int) -> str:
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return (
        text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]
    )


# An "@" a post wrote between a number's digit groups ("138 @1234 5678", shared/post_text.py
# finds it as one number): not part of the number.
_AT_SIGNS = str.maketrans({"@": " ", "＠": " "})


def _parse_phone(value: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse(value.translate(_AT_SIGNS), "CN")


def partial_phone(value: str) -> str:
    """ "+8613812345678" or "13812345678" -> "138****5678"; a landline as it is dialled at
    home, its trunk 0 kept: "010-12345678" -> "010****5678" (its national number alone,
    1012345678, showed "101***5678": the area code run into the local number, QA session 23)."""
    try:
        national = phonenumbers.format_number(
            _parse_phone(value), phonenumbers.PhoneNumberFormat.NATIONAL
        )
        number = re.sub(r"\D", "", national)
    except phonenumbers.NumberParseException:
        number = re.sub(r"\D", "", value)
    if len(number) >= 8:
        return _stars(number, 3, 4)
    return _stars(number, 0, 2)


def partial_national_id(value: str) -> str:
    """ "110105199001011234" -> "110105********1234" (region code and last 4 kept); the old
    15-digit form "110105850312123" -> "110105******123" (its last 4 would show a digit of
    the birth date: the 3-digit sequence is kept)."""
    text = value.strip()
    return _stars(text, 6, 3 if sum(c.isdigit() for c in text) == 15 else 4)


def partial_email(value: str) -> str:
    local, sep, domain = value.strip().partition("@")
    if not sep:
        return _stars(local, 1, 0)
    return f"{local[:1]}***@{domain}"


def partial_card(value: str) -> str:
    """A bank card number as a note writes it ("6225 8802 1234 5678") -> its digits with the
    last four kept: "************5678"."""
    digits = _normalise(value, "BANK_CARD")
    return _stars(digits, 0, 4)


def partial_address(value: str) -> str:
    """Province and city only, known by name: "广东省深圳市南山区..." -> "广东省深圳市***",
    "深圳南山区..." -> "深圳***"; the province alone or "***" where the city is none the
    tables know (privacy/cn_regions.py: "up to the first 市" showed streets, QA session 26)."""
    return f"{province_and_city(value)}***"


def partial_name(value: str) -> str:
    """ "张三丰" -> "张**"."""
    text = value.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


def partial_handle(value: str) -> str:
    text = value.strip()
    at = "@" if text.startswith("@") else ""
    return at + _stars(text.lstrip("@"), 1, 1)


_PARTIAL = {
    "PHONE": partial_phone,
    "NATIONAL_ID": partial_national_id,
    "BANK_CARD": partial_card,
    "EMAIL": partial_email,
    "ADDRESS": partial_address,
    "NAME": partial_name,
    "SOCIAL_HANDLE": partial_handle,
}


def partial(value: Any, kind: str) -> Any:
    """The kind's partial form; amounts fall back to bands and dates to years."""
    if kind == "AMOUNT":
        return band(value)
    if kind == "BIRTH_DATE":
        return year(value)
    fn = _PARTIAL.get(kind)
    if fn is None or not isinstance(value, str):
        return None
    return fn(value)


def _normalise(value: Any, kind: str) -> str:
    text = str(value).strip()
    if kind == "EMAIL":
        return text.lower()
    if kind == "PHONE":
        try:
            parsed = _parse_phone(text)
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            return re.sub(r"\D", "", text)
    if kind == "SOCIAL_HANDLE":
        return text.lstrip("@").lower()
    if kind == "NATIONAL_ID":
        # As a note writes it ("110105 19900101 1234", "110105-19900101-1234", "1101.0519...",
        # full-width digits, a lower-case "x", the old 15-digit form; the separators
        # shared/post_text.py allows in one): the same token as the idNumber field's 18
        # characters.
        return cn_id_token(text)
    if kind == "BANK_CARD":
        # Its digits (any script's, as ASCII; shared/validators.ascii_fold, as it was found):
        # the same token however the groups are written.
        return "".join(c for c in ascii_fold(text) if "0" <= c <= "9")
    return text


def hash_token(value: Any, kind: str, key: bytes) -> str:
    """ "h:" + 16 hex chars of HMAC-SHA256(key, kind:normalised value): stable and joinable
    within a kind (the same phone in two formats gives the same token)."""
    message = f"{kind}:{_normalise(value, kind)}".encode()
    return "h:" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def band(value: Any) -> str | None:
    """Amount (yuan) -> a range in 万; negatives by absolute value with a sign: "-(1万-5万)"."""
    number = _to_decimal(value)
    if number is None:
        return None
    size = abs(number) / _WAN
    label = next((name for upper, name in _BANDS if size < upper), _TOP_BAND)
    return f"-({label})" if number < 0 else label


def band_range(value: Any) -> tuple[float, float | None] | None:
    """[low, high) in yuan of the band ``value`` falls in (None: open above): what a caller
    who sees only the band knows. Negatives: the mirrored range, (-high, -low]."""
    number = _to_decimal(value)
    if number is None:
        return None
    size = abs(number) / _WAN
    lower = Decimal(0)
    for upper, _ in _BANDS:
        if size < upper:
            low, high = float(lower * _WAN), float(upper * _WAN)
            return (-high, -low) if number < 0 else (low, high)
        lower = Decimal(upper)
    return (-float("inf"), -float(lower * _WAN)) if number < 0 else (float(lower * _WAN), None)


def year(value: Any) -> str | None:
    if isinstance(value, dt.date):
        return f"{value.year:04d}"
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        return match.group(1) if match else None
    return None


def apply_mask(value: Any, mode: str, kind: str, hmac_key: bytes) -> Any:
    """Mask one value; None stays None, and an unknown mode redacts (fail closed)."""
    if value is None:
        return None
    if mode == "reveal":
        return value
    if mode == "partial":
        return partial(value, kind)
    if mode == "hash":
        return hash_token(value, kind, hmac_key)
    if mode == "band":
        return band(value)
    if mode == "year":
        return year(value)
    return None


def mask_mentions(text: Any, mode: str, kind: str, hmac_key: bytes) -> Any:
    """A post's text with every @handle, and the identifying part of every profile link
    (x.com/<handle>/..., weibo.com/u/<uid>, see shared/post_text.py), masked like the handle
    field itself (a redacted one becomes "@***"), so handles do not leak through the text
    around them."""
    return mask_quoted(
        text, {kind: mode, "PHONE": "reveal", "EMAIL": "reveal", "NATIONAL_ID": "reveal"}, hmac_key
    )


# The kinds :func:`mask_quoted` masks in a text.
QUOTED_KINDS = ("SOCIAL_HANDLE", "PHONE", "EMAIL", "NATIONAL_ID")
# Pieces found in a text whose kind no field has: masked with another kind's mode. A bank card
# number (shared/post_text.py) is an identifying number no role's policy names a mode for (the
# graph keeps no card or account number): shown as the caller sees the customer's ID number
# (reveal: whole; partial: its last four digits; hash: a token of its digits; else "***").
_MODE_OF = {"BANK_CARD": "NATIONAL_ID"}
# The customer's own values a note about them may name (:func:`mask_quoted` ``own``).
OWN_KINDS = ("NAME", "ADDRESS")


def mask_quoted(
    text: Any,
    modes: Mapping[str, str],
    hmac_key: bytes,
    own: Mapping[str, Any] | None = None,
    names: Iterable[tuple[str, str]] = (),
) -> Any:
    """A post's text or an interaction's summary with the personal data it quotes
    (shared/post_text.py: @handles and profile links, phone numbers, e-mail addresses, ID
    numbers, bank card numbers) masked like the field of its kind would
    be with ``modes[kind]`` (a kind missing there is redacted; a redacted piece becomes
    "***"): a number in a post is shown as the caller sees the customer's phone.

    ``own``: the values of the customer a note is about, by kind (OWN_KINDS: their name and
    address, as the graph holds them): each exact occurrence of one in the rest of the text is
    shown as that field is (``modes[kind]``: "许**" for a partial name). A name or address
    written otherwise, and anyone else's, is not found.

    ``names``: (name, mode) of other people the text may name (a joint account's co-owners in
    its booking text): each exact occurrence masked as a NAME with that mode, alike."""
    if not isinstance(text, str):
        return text
    owned = _owned(own or {}, modes, hmac_key, names)
    if not owned and all(modes.get(kind) == "reveal" for kind in QUOTED_KINDS):
        return text

    def masked(piece: str, kind: str) -> str:
        mode = modes.get(_MODE_OF.get(kind, kind), "redact")
        return str(apply_mask(piece, mode, kind, hmac_key) or "***")

    def rest(part: str) -> str:
        for value, shown in owned:
            part = part.replace(value, shown)
        return part

    return replace_personal(text, masked, rest if owned else None)


def _owned(
    own: Mapping[str, Any],
    modes: Mapping[str, str],
    hmac_key: bytes,
    names: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """(value, as shown) of the own values ``modes`` does not reveal and of the other
    ``names`` whose mode does not, the longest first (an address naming the person is masked
    as the address). A value of one character is left alone: it would mask that character
    everywhere."""
    out: list[tuple[str, str]] = []
    pieces = [(kind, own.get(kind), modes.get(kind, "redact")) for kind in OWN_KINDS]
    pieces += [("NAME", value, mode) for value, mode in names]
    for kind, value, mode in pieces:
        if not isinstance(value, str) or len(value.strip()) < 2 or mode == "reveal":
            continue
        value = value.strip()
        out.append((value, str(apply_mask(value, mode, kind, hmac_key) or "***")))
    return sorted(out, key=lambda pair: -len(pair[0]))
