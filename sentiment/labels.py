"""Sentiment labels and the pure rules that pick them."""

from __future__ import annotations

import re
from enum import StrEnum

from sentiment.normalize import fold_width, mask_banks


class Label(StrEnum):
    POSITIVE = "POSITIVE"
    NEUTRAL = "NEUTRAL"
    NEGATIVE = "NEGATIVE"
    UNSUPPORTED = "UNSUPPORTED"


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A run of letters of other scripts ("customer", "app", "登录" is not one): a word.
_OTHER_WORDS = re.compile(r"(?:(?![\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[^\W\d_])+")

# The models are trained on Chinese posts; on other text their score is noise.
MIN_CJK_CHARS = 2
MIN_CJK_SHARE = 0.5


def is_chinese(text: str, min_chars: int = MIN_CJK_CHARS, min_share: float = MIN_CJK_SHARE) -> bool:
    """True when ``text`` has enough CJK characters to score: at least ``min_chars``, and at
    least ``min_share`` of its units, a unit being a CJK character or a word of another script.
    A Chinese character carries about what an English word does, so "招行 customer service
    太差了" is scored (counted letter by letter, its English outweighed the Chinese), while
    "招行 app is great" is not: the Chinese model would judge only the brand's name. The
    ``min_chars`` are counted besides bank names, which the model masks (sentiment.normalize):
    "招商银行 customer service is awful" leaves it nothing Chinese to read (QA, session 25).
    Banking nouns are masked too, but "转账中..." and "在网点" are Chinese a person judges."""
    cjk = len(_CJK.findall(text))
    besides_banks = len(_CJK.findall(mask_banks(fold_width(text))))
    words = len(_OTHER_WORDS.findall(text))
    return besides_banks >= min_chars and cjk / (cjk + words) >= min_share


def label_for(score: float | None, positive: float = 0.6, negative: float = 0.4) -> Label:
    """Threshold a 0..1 score; ``None`` (not scored) is UNSUPPORTED."""
    if score is None:
        return Label.UNSUPPORTED
    if score >= positive:
        return Label.POSITIVE
    if score <= negative:
        return Label.NEGATIVE
    return Label.NEUTRAL


def judged_score(label: object, score: float | None) -> float | None:
    """A post's score as a mean counts it: none for a post labelled UNSUPPORTED, though the
    model scored it (a person said it cannot be judged: correctPostLabel). The graph's sums
    follow the same rule (graph/repositories/social.py JUDGED_SCORE)."""
    return None if label == Label.UNSUPPORTED else score


__all__ = ["MIN_CJK_CHARS", "MIN_CJK_SHARE", "Label", "is_chinese", "judged_score", "label_for"]
