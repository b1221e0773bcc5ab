"""Sentiment labels and the pure rules that pick them."""

from __future__ import annotations

import re
from enum import StrEnum


class Label(StrEnum):
    POSITIVE = "POSITIVE"
    NEUTRAL = "NEUTRAL"
    NEGATIVE = "NEGATIVE"
    UNSUPPORTED = "UNSUPPORTED"


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTERS = re.compile(r"[^\W\d_]")

# snownlp is trained on Chinese reviews; on other text its score is noise.
MIN_CJK_CHARS = 2
MIN_CJK_SHARE = 0.3


def is_chinese(text: str, min_chars: int = MIN_CJK_CHARS, min_share: float = MIN_CJK_SHARE) -> bool:
    """True when ``text`` has enough CJK characters among its letters to score."""
    cjk = len(_CJK.findall(text))
    letters = len(_LETTERS.findall(text))
    return cjk >= min_chars and letters > 0 and cjk / letters >= min_share


def label_for(score: float | None, positive: float = 0.6, negative: float = 0.4) -> Label:
    """Threshold a 0..1 score; ``None`` (not scored) is UNSUPPORTED."""
    if score is None:
        return Label.UNSUPPORTED
    if score >= positive:
        return Label.POSITIVE
    if score <= negative:
        return Label.NEGATIVE
    return Label.NEUTRAL


__all__ = ["MIN_CJK_CHARS", "MIN_CJK_SHARE", "Label", "is_chinese", "label_for"]
