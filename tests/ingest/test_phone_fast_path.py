"""The bare CN mobile fast path of normalize_phone decides exactly as libphonenumber's parse +
is_valid_number + E.164 format does, on every number it takes."""

from __future__ import annotations

import random

import phonenumbers

from shared.validators import _bare_cn_mobile, normalize_phone


def _library(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _numbers() -> list[str]:
    rng = random.Random(13)
    digits = "0123456789"
    shaped = [f"1{rng.choice(digits)}{rng.choice(digits)}" for _ in range(60_000)]
    numbers = [p + "".join(rng.choices(digits, k=8)) for p in shaped]  # 11 digits from 1
    numbers += ["179" + "".join(rng.choices(digits, k=8)) for _ in range(2_000)]  # IP prefix
    numbers += ["1740" + "".join(rng.choices(digits, k=7)) for _ in range(2_000)]
    numbers += ["1610" + "".join(rng.choices(digits, k=7)) for _ in range(2_000)]
    return numbers


def test_every_number_the_fast_path_takes_reads_as_the_library_reads_it() -> None:
    taken = 0
    for text in _numbers():
        fast = _bare_cn_mobile(text)
        if fast is not None:
            taken += 1
            assert fast == _library(text), text
    assert taken > 30_000  # the common shape does take it


def test_other_shapes_go_to_the_library() -> None:
    for text in ["+86 138 1234 5678", "138-1234-5678", "１３８１２３４５６７８", "010 6552 9988",
                 "17951138123456", "8613812345678", "1381234567", "138123456789"]:  # fmt: skip
        assert _bare_cn_mobile(text) is None
    assert normalize_phone("+86 138 1234 5678") == "+8613812345678"
