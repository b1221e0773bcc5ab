"""Language of a post without ``lang``, by script: enough to route Chinese posts to the
Chinese model and to count the rest, not a general language identifier."""

from __future__ import annotations

import re

_HAN = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "is",
        "are",
        "was",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "my",
        "your",
        "this",
        "that",
        "it",
        "not",
        "no",
        "very",
        "bank",
        "app",
        "card",
        "service",
        "today",
        "why",
        "how",
        "what",
    ]
)


def detect_lang(text: str) -> str | None:
    """'zh', 'ja', 'ko', 'en', 'und' (latin script, not recognisably English) or None (no
    letters at all). Kana or Hangul anywhere decide Japanese / Korean; otherwise Han
    characters make it Chinese once they are a fifth of the letters."""
    han, latin = len(_HAN.findall(text)), len(_LATIN.findall(text))
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if han and han * 5 >= han + latin:
        return "zh"
    if latin:
        words = set(re.findall(r"[a-z]+", text.lower()))
        return "en" if words & _ENGLISH else "und"
    return None


__all__ = ["detect_lang"]
