"""What a post's text is searched as, and what in it is a quoted handle.

A post's text quotes handles ("//@angry_li: ..."). The API masks them on the way out like the
handle field (privacy/masking.py), so a brand query's terms must not match them either: a
term spelling a handle would otherwise confirm it to a caller who sees handles hashed. The
graph keeps :func:`search_text` beside the text (``Post.searchText``, written with every
post), and the query language matches terms against the same string in Python.
"""

from __future__ import annotations

import re
import unicodedata

# A handle quoted in a post's text: Weibo and X handles are word characters, CJK included,
# plus "-", after "@" or as the first path part of an X link (x.com/<handle>/status/...).
# Group 1 is what stays (the "@" or the link's start), group 2 the handle. The same pattern
# decides what the API masks and what searches leave out.
MENTION = re.compile(
    r"(@|(?:https?://)?(?<![\w.\-])(?:www\.|mobile\.)?(?:x|twitter)\.com/)([\w\-]+)", re.I
)


def normalise(text: str) -> str:
    """NFKC, lower case: how terms and the searched text are compared."""
    return unicodedata.normalize("NFKC", text).lower()


def search_text(text: str) -> str:
    """The text terms are matched against: every quoted handle left out (its "@" or link start
    kept), then normalised. Handles are cut before normalising: only what the API masks is
    left out."""
    return normalise(MENTION.sub(r"\1", text))


__all__ = ["MENTION", "normalise", "search_text"]
