"""Normalised-text fingerprints: reposts and verbatim copies share one."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff]+")
# Repost markers: Weibo "//@someone:" chains, "转发微博", "转发", X "RT @user:".
_REPOST = re.compile(r"^\s*RT\s+@\w+:?|转发微博|转发|//", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
REPOST_MARKER = re.compile(r"^\s*RT\s+@|转发|//@", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lower-case NFKC text without URLs, @mentions, repost markers, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text)
    text = _URL.sub(" ", text)
    text = _REPOST.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return _NOT_WORD.sub("", text).lower()


def fingerprint(text: str) -> str | None:
    """sha256 prefix of the normalised text; None when nothing is left to compare."""
    norm = normalise(text)
    if not norm:
        return None
    return hashlib.sha256(norm.encode()).hexdigest()[:16]


def looks_like_repost(text: str) -> bool:
    return bool(REPOST_MARKER.search(text))


__all__ = ["fingerprint", "looks_like_repost", "normalise"]
