"""What a post's text is searched as, and what in it is a quoted handle.

A post's text quotes handles ("//@angry_li: ..."), and links to people's profiles
("x.com/<handle>/status/...", "weibo.com/u/<uid>", "space.bilibili.com/<uid>"). The API masks
the identifying part of each on the way out like the handle field (privacy/masking.py), so a
brand query's terms must not match them either: a term spelling a handle would otherwise
confirm it to a caller who sees handles hashed. The graph keeps :func:`search_text` beside
the text (``Post.searchText``, written with every post), and the query language matches terms
against the same string in Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# An @handle and an X handle: word characters, CJK included, plus "-".
HANDLE = r"[\w\-]+"
# A name or number in another platform's link: the same, percent-encoded characters too
# (weibo.com/n/%E5%BC%A0%E4%B8%89 is a nickname).
NAME = r"(?:[\w\-]|%[0-9a-f]{2})+"
# A name with inner dots (facebook.com/john.smith, instagram.com/jane.doe): a dot ending a
# sentence after the link is not part of it.
DOTTED = rf"{NAME}(?:\.{NAME})*"
NUMBER = r"\d+"


def _except(*pages: str) -> str:
    """The first path part is none of ``pages`` (a platform's own pages: articles, videos,
    search), so anything else there is taken for a profile's name: fails closed."""
    return rf"(?!(?:{'|'.join(pages)})(?![\w\-%]|\.[\w\-%]))"


_WEIBO_PAGES = _except(
    "u", "n", "profile", "ttarticle", "tv", "p", "a", "l", "s", "detail", "status", "hot",
    "search", "signup", "login", "newlogin", "set", "ajax", "aj", "video", "topic", "show",
    "home", "sorry", "compose", "message", "api", "beta", "c",
)  # fmt: skip
_FACEBOOK_PAGES = _except(
    "people", "watch", "groups", "events", "pages", "share", "sharer", "photo", "photos",
    "permalink", "story", "hashtag", "login", "help", "policies", "privacy", "marketplace",
    "gaming", "reel", "reels", "videos", "stories", "dialog", "plugins", "business", "ads",
    "notes", "media", "search", "settings", "messages", "friends", "bookmarks",
    "fundraisers", "legal", "about", "terms", "[\\w\\-.%]*\\.php",
)  # fmt: skip
_FACEBOOK = r"(?:www\.|m\.|web\.|mbasic\.)?facebook\.com"
_INSTAGRAM_PAGES = _except(
    "p", "reel", "reels", "tv", "explore", "accounts", "stories", "direct", "about", "legal",
    "developer", "web", "challenge", "emails", "privacy", "session", "oauth", "ar", "static",
)  # fmt: skip

# Profile links: (host, the path before the identifying part, the identifying part).
# The host is matched at a name's start (not "fox.com", not "a.x.com"), any case; only the
# identifying part is masked and left out of searches, the rest of the link stays. A link
# that names no one (weibo.com/ttarticle/..., a bank's own site) is none of these. Each host
# starts with a name of at most 20 letters or digits and a dot (see _compile).
PROFILE_LINKS: tuple[tuple[str, str, str], ...] = (
    # x.com/<handle>/status/...: any first path part, as before other platforms were added.
    (r"(?:www\.|mobile\.)?x\.com", "", HANDLE),
    (r"(?:www\.|mobile\.)?twitter\.com", "", HANDLE),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", r"(?:u|profile)/", NUMBER),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", r"n/", NAME),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", _WEIBO_PAGES, NAME),  # /<name>, /<uid>/<mid>
    (r"(?:www\.)?douyin\.com", r"user/", NAME),
    (r"(?:www\.)?iesdouyin\.com", r"share/user/", NAME),
    (r"v\.douyin\.com", "", NAME),  # a short link may lead to a profile: masked
    (r"(?:www\.)?xiaohongshu\.com", r"user/profile/", NAME),
    (r"xhslink\.com", r"(?:a/)?", NAME),
    (r"space\.bilibili\.com", "", NUMBER),
    (r"m\.bilibili\.com", r"space/", NUMBER),
    (r"b23\.tv", "", NAME),
    (r"(?:www\.)?zhihu\.com", r"(?:people|org)/", NAME),
    (_FACEBOOK, r"profile\.php\?id=", NUMBER),
    (_FACEBOOK, r"people/", rf"{DOTTED}(?:/\d+)?"),
    (_FACEBOOK, _FACEBOOK_PAGES, DOTTED),
    (r"fb\.com", _FACEBOOK_PAGES, DOTTED),
    (r"(?:www\.)?instagram\.com", r"stories/", DOTTED),
    (r"(?:www\.)?instagram\.com", _INSTAGRAM_PAGES, DOTTED),
    (r"(?:[a-z]{2}\.|www\.)?linkedin\.com", r"(?:in|pub)/", NAME),
    (r"(?:www\.|m\.)?tiktok\.com", r"@", DOTTED),
    (r"v[mt]\.tiktok\.com", "", NAME),
    (r"(?:www\.|m\.)?youtube\.com", r"(?:@|channel/|c/|user/)", DOTTED),
)


def _compile() -> re.Pattern[str]:
    # One pattern, one scan per text. Each alternative is two groups: what stays (the "@",
    # or the link up to the identifying part) and the identifying part; a match's last
    # group is the latter (see :func:`replace_handles`). Every host starts with a short
    # name and a dot ("www.", "weibo."): checked first, it spares most places in a text the
    # alternatives (a third of the time of the pattern without it).
    # A link starts where no ASCII host character precedes it: not \w, which also matches
    # Chinese, and Chinese posts write links straight after their text (QA, session 15). An
    # explicit port (weibo.com:443/u/...) is part of the host.
    links = "|".join(
        rf"({host}(?::\d{{1,5}})?/{path})({part})" for host, path, part in PROFILE_LINKS
    )
    return re.compile(rf"(@)({HANDLE})|(?<![A-Za-z0-9_.\-])(?=[a-z0-9]{{1,20}}\.)(?:{links})", re.I)


QUOTED_HANDLE = _compile()
# What :func:`search_text` leaves out, as stored beside ``Post.searchText``
# (``searchTextVersion``; none is 1: @handles and X links). Raise it with every change to
# what is left out: opening the graph writes searchText again on posts below it
# (graph/repositories/social.py backfill_search_text). 2: other platforms' profile links.
SEARCH_TEXT_VERSION = 3


def replace_handles(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with each quoted handle and profile link's identifying part replaced by
    ``replace(part)``; the "@" or the rest of the link stays. The same function decides what
    the API masks and what searches leave out."""

    def one(match: re.Match[str]) -> str:
        last = match.lastindex or 0  # never 0: every alternative ends in a group
        return match.group(last - 1) + replace(match.group(last))

    return QUOTED_HANDLE.sub(one, text)


def _dropped(_: str) -> str:
    return ""


def normalise(text: str) -> str:
    """NFKC, lower case: how terms and the searched text are compared."""
    return unicodedata.normalize("NFKC", text).lower()


def search_text(text: str) -> str:
    """The text terms are matched against: every quoted handle and profile link's
    identifying part left out (its "@" or the rest of the link kept), then normalised.
    Handles are cut before normalising: only what the API masks is left out."""
    return normalise(replace_handles(text, _dropped))


__all__ = [
    "PROFILE_LINKS",
    "QUOTED_HANDLE",
    "SEARCH_TEXT_VERSION",
    "normalise",
    "replace_handles",
    "search_text",
]
