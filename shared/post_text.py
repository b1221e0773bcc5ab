"""What a post's text is searched as, and what in it is personal data of a kind.

A post's text quotes handles ("//@angry_li: ..."), and links to people's profiles
("x.com/<handle>/status/...", "weibo.com/u/<uid>", "space.bilibili.com/<uid>"), phone
numbers ("有问题联系我 13812345678"), e-mail addresses, resident ID numbers and bank card
numbers. The API masks each on the way out like the field of its kind (SOCIAL_HANDLE, PHONE,
EMAIL, NATIONAL_ID; a card number as an ID number; privacy/masking.py), and so does an
interaction's summary (a call-centre note), so a brand
query's terms must not match them either: a term spelling a handle or a number would otherwise
confirm it to a caller who sees it masked. The graph keeps :func:`search_text` beside the text
(``Post.searchText``, written with every post), and the query language matches terms against
the same string in Python.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources

import phonenumbers

from shared.validators import ASCII_FOLD as _ASCII_FOLD
from shared.validators import cn_id_from_15

# An @handle and an X handle: word characters, CJK included, plus "-".
HANDLE = r"[\w\-]+"
# A name or number in another platform's link: the same, percent-encoded characters too
# (weibo.com/n/%E5%BC%A0%E4%B8%89 is a nickname).
NAME = r"(?:[\w\-]|%[0-9a-f]{2})+"
# A name with inner dots (facebook.com/john.smith, instagram.com/jane.doe): a dot ending a
# sentence after the link is not part of it.
DOTTED = rf"{NAME}(?:\.{NAME})*"
NUMBER = r"\d+"
# Query parameters before a named one (?a=1&b=2&__biz=...): URL characters only, so the
# search for the parameter stops at the link's end; the first one named is taken.
_PARAMS = r"(?:[a-z0-9\-._~%=+;]*&(?:amp;)?)*?"
_QUERY = rf"[a-z0-9\-._~%/]*\?{_PARAMS}"


def _except(*pages: str) -> str:
    """The first path part is none of ``pages`` (a platform's own pages: articles, videos,
    search), so anything else there is taken for a profile's name: fails closed."""
    return rf"(?!(?:{'|'.join(pages)})(?![\w\-%]|\.[\w\-%]))"


_WEIBO_PAGES = _except(
    "u", "n", "profile", "ttarticle", "tv", "p", "a", "l", "s", "detail", "status", "hot",
    "search", "signup", "login", "newlogin", "set", "ajax", "aj", "video", "topic", "show",
    "home", "sorry", "compose", "message", "api", "beta", "c", "help",
)  # fmt: skip
# A Weibo page id (weibo.com/p/<id>, m.weibo.cn/p/index?containerid=<id>, lfid=<id>): a
# six-digit domain, then mostly the uid (100505<uid> a person, 100606<uid> a company,
# 107603<uid> their posts); a topic's (1008 and 32 hex digits) and an article's (100160 and
# 16 digits) name no one. Fails closed: any other id, a uid (uid=<uid>) too, is masked.
_WEIBO_ID = r"(?!(?:1008|100160)[0-9a-z]{12})\d[0-9a-z]*"
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
# The host is matched at a name's start (not "fox.com", not "a.x.com"; but see _GLUED), any
# case; only the identifying part is masked and left out of searches, the rest of the link
# stays. A link that names no one (weibo.com/ttarticle/..., a bank's own site) is none of
# these. Each host starts with a name of at most 20 letters or digits and a dot (see _compile).
_X = r"(?:www\.|mobile\.)?(?:x|twitter)\.com"

PROFILE_LINKS: tuple[tuple[str, str, str], ...] = (
    # Before x.com/<handle>: at one place the first row that matches wins.
    (_X, r"i/user/", NUMBER),
    (_X, rf"intent/(?:user|follow)\?{_PARAMS}(?:screen_name|user_id)=", HANDLE),
    # x.com/<handle>/status/...: any first path part, as before other platforms were added.
    (r"(?:www\.|mobile\.)?x\.com", "", HANDLE),
    (r"(?:www\.|mobile\.)?twitter\.com", "", HANDLE),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", r"(?:u|profile)/", NUMBER),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", r"p/", _WEIBO_ID),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", r"n/", NAME),
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", _WEIBO_PAGES, NAME),  # /<name>, /<uid>/<mid>
    # Last of Weibo's: a page or post's link naming a user in its query (a post's
    # ?lfid=100505<uid>, m.weibo.cn/p/index?containerid=<id>).
    (r"(?:www\.|m\.)?weibo\.(?:com|cn)", rf"{_QUERY}(?:uid|lfid|containerid)=", _WEIBO_ID),
    (r"(?:www\.)?douyin\.com", r"user/", NAME),
    (r"(?:www\.)?iesdouyin\.com", r"share/user/", NAME),
    (r"v\.douyin\.com", "", NAME),  # a short link may lead to a profile: masked
    (r"(?:www\.)?xiaohongshu\.com", r"user/profile/", NAME),
    (r"xhslink\.com", r"(?:[a-z]/)?", NAME),  # xhslink.com/a/<code>, /m/<code>
    (r"space\.bilibili\.com", "", NUMBER),
    (r"m\.bilibili\.com", r"space/", NUMBER),
    (r"b23\.tv", "", NAME),
    (r"(?:www\.)?zhihu\.com", r"(?:people|org)/", NAME),
    (_FACEBOOK, r"profile\.php\?id=", NUMBER),
    (_FACEBOOK, r"people/", rf"{DOTTED}(?:/\d+)?"),
    (_FACEBOOK, _FACEBOOK_PAGES, DOTTED),
    (r"fb\.com", _FACEBOOK_PAGES, DOTTED),
    (r"fb\.me", "", DOTTED),  # Facebook's short link to a profile or page
    (r"(?:www\.)?instagram\.com", r"stories/", DOTTED),
    (r"(?:www\.)?instagram\.com", _INSTAGRAM_PAGES, DOTTED),
    (r"instagr\.am", _INSTAGRAM_PAGES, DOTTED),
    (r"(?:[a-z]{2}\.|www\.)?linkedin\.com", r"(?:in|pub)/", NAME),
    (r"(?:[a-z]{2}\.|www\.)?linkedin\.com", rf"profile/view\?{_PARAMS}id=", NAME),
    (r"(?:www\.|m\.)?tiktok\.com", r"@", DOTTED),
    (r"v[mt]\.tiktok\.com", "", NAME),
    (r"(?:www\.|m\.)?youtube\.com", r"(?:@|channel/|c/|user/)", DOTTED),
    # A WeChat official account's article or profile page names the account (__biz=, its id
    # in base64, "=" often escaped); mp.weixin.qq.com/s/<code> names an article.
    (r"mp\.weixin\.qq\.com", _QUERY + "__biz=", r"(?:[a-z0-9+/]|%[0-9a-f]{2})+=*"),
)


# Hosts recognised glued to Latin letters or digits before them ("Facebookfacebook.com/<name>",
# "Followweibo.com/u/<uid>"): a platform's own name, so a longer word ending in it and
# followed by ".com/<profile path>" is a link; not x.com, fb.com, b23.tv or a host with a
# subdomain (fox.com, myspace.bilibili.com name other sites).
_GLUED = (
    "weibo", "douyin", "iesdouyin", "xiaohongshu", "xhslink", "zhihu", "facebook", "instagram",
    "instagr", "linkedin", "tiktok", "youtube", "twitter",
)  # fmt: skip


def _compile(glued: bool = True) -> re.Pattern[str]:
    # One pattern, one scan per text. Each alternative is two groups: what stays (the "@",
    # or the link up to the identifying part) and the identifying part; a match's last
    # group is the latter (see :func:`_handle_spans`). Every host starts with a short
    # name and a dot ("www.", "weibo."): checked first, it spares most places in a text the
    # alternatives (a third of the time of the pattern without it).
    # A link starts where no ASCII host character precedes it: not \w, which also matches
    # Chinese, and Chinese posts write links straight after their text (QA, session 15), or
    # with a platform's own name right after Latin letters (_GLUED; _handle_spans drops
    # such a match inside another site's host). An explicit port (weibo.com:443/u/...) is
    # part of the host.
    links = "|".join(
        rf"({host}(?::\d{{1,5}})?/{path})({part})" for host, path, part in PROFILE_LINKS
    )
    start = r"(?<![A-Za-z0-9_.\-])"
    if glued:
        start = rf"(?:{start}|(?<=[A-Za-z0-9])(?=(?:{'|'.join(_GLUED)})\.))"
    return re.compile(rf"(@)({HANDLE})|{start}(?=[a-z0-9]{{1,20}}\.)(?:{links})", re.I)


QUOTED_HANDLE = _compile()
# The same without links glued to letters before them, for the texts that name no platform
# glued so (most): the glued alternative, tried at every place, doubled the scan's time.
_UNGLUED = _compile(glued=False)
_GLUED_HOSTS = tuple(f"{name}." for name in _GLUED)
# What :func:`search_text` leaves out, as stored beside ``Post.searchText``
# (``searchTextVersion``; none is 1: @handles and X links). Raise it with every change to
# what is left out: opening the graph writes searchText again on posts below it
# (graph/repositories/social.py backfill_search_text). 2: other platforms' profile links.
# 3: links straight after Chinese text. 4: links in full-width characters or with
# percent-escaped letters, glued to Latin letters, more forms (weibo.com/p/<id>, instagr.am,
# mp.weixin.qq.com ...__biz=, x.com/i/user/<id>, ...), an account named again in a link's
# query (?uid=<uid>) or in a Weibo post's (lfid=100505<uid>). 5: phone numbers and e-mail
# addresses. 6: a number written as an @handle whose digits go on after it ("@138 1234 5678":
# the whole number, not only "138"). 7: a number with an "@" between its digit groups ("138
# @1234 5678": the whole number, not only the group after the "@"). 8: resident ID numbers.
# 9: traditional Chinese folded to simplified (招商銀行 is found by 招商银行, and the other way).
# 10: an "@" joins digit groups only after three digits or more ("转发 1 @<uid>" keeps its
# handle's "@"), and ID numbers written with dashes between their parts. 11: ID numbers with
# spaces, dashes, dots, slashes or underscores between any of their characters. 12: ID numbers
# in their first-generation 15-digit form. 13: bank card numbers. 14: numbers written in any
# script's decimal digits (Arabic-Indic ٦٢٢٥…) are found as in ASCII ones, superscripts
# ("³") are not digits (shared/validators.ASCII_FOLD). 15: mainland mobiles written beside a
# lone digit or another digit group ("2 138 1234 5678", "1 13812345678/13912345678"), which the
# matcher read as part of a longer, invalid number (:data:`_SPACED_MOBILE`). 16: every kind
# found through invisible characters between its characters ("110105\u206019900102…",
# "@\u200bzhangsan"; :func:`_visible`), and the accounts Weibo's HTML link markup names
# (href='/n/<name>', usercard='name=<name>'; :data:`_WEIBO_ATTRIBUTE`).
SEARCH_TEXT_VERSION = 16


# A percent-escaped unreserved character (RFC 3986: letters, digits, "-._~"): weibo.com/%75/
# is weibo.com/u/. Reserved ones ("%2F") mean something else escaped and stay.
_UNRESERVED_ESCAPE = re.compile(
    r"%(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2[de]|5f|7e)", re.I
)


def _fold(text: str) -> tuple[str, list[int] | None]:
    """What links are looked for in: ``text`` with full-width characters folded to ASCII
    and unreserved percent-escapes decoded, and where each of its characters (and its end)
    is in ``text`` (None: at the same offset). Only looked at: what is masked is the text's
    own span."""
    folded = text if text.isascii() else text.translate(_ASCII_FOLD)
    if "%" not in folded:
        return folded, None
    parts: list[str] = []
    where: list[int] = []
    done = 0
    for escape in _UNRESERVED_ESCAPE.finditer(folded):
        at = escape.start()
        parts += (folded[done:at], chr(int(escape.group()[1:], 16)))
        where += range(done, at + 1)
        done = escape.end()
    if not where:
        return folded, None
    parts.append(folded[done:])
    where += range(done, len(folded) + 1)
    return "".join(parts), where


_HOST_CHARACTERS = frozenset("./-_@")
# After a profile link's identifying part, a query parameter naming an account again
# (m.weibo.cn/u/<uid>?uid=<uid>&lfid=100505<uid>, ...&__biz=...&user_id=...): masked too.
_MORE = re.compile(
    r"[a-z0-9\-._~%/=+;:,?&]*?[?&](?:amp;)?(?:uid|lfid|containerid|__biz|screen_name|user_id)="
    r"([a-z0-9\-._~%+/]+=*)",
    re.I,
)


# Weibo's HTML post text (the "text" its API returns) names an @handle's account again in
# the link around it: <a href='/n/李小龙abc' usercard='name=李小龙abc'>@李小龙abc</a>, and a
# uid's as <a href="/u/1234567890" usercard="id=1234567890"> (QA, session 25: the @handle was
# masked, the attributes shown and searched as written). A relative profile link in an href
# (/n/<name>, /u/<uid>) and a usercard's name= or id= value are masked as the link's
# identifying part; the rest of the markup stays (a post's text is shown as stored). Each
# match starts at "href" or "usercard", and the spaces it reads after one end at the next
# character that is none: linear.
_WEIBO_ATTRIBUTE = re.compile(
    rf"""(?<![\w\-])(?:href\s*=\s*["']?/(?:n/({NAME})|u/({NUMBER}))"""
    rf"""|usercard\s*=\s*["']?(?:name|id)=({NAME}))""",
    re.I,
)


def _weibo_attribute_spans(folded: str, lowered: str) -> list[tuple[int, int, bool]]:
    """Where each account named in Weibo's link markup is (:data:`_WEIBO_ATTRIBUTE`); only a
    text naming an href or a usercard is scanned."""
    if "href" not in lowered and "usercard" not in lowered:
        return []
    return [(*m.span(m.lastindex or 0), False) for m in _WEIBO_ATTRIBUTE.finditer(folded)]


def _in_another_host(folded: str, start: int) -> bool:
    """A glued link's Latin letters before it follow "://", "." or "-" ("https://notweibo.com",
    "a.myfacebook.com"): they are part of another site's name, not a word before the link."""
    run = start
    while run > 0 and folded[run - 1].isascii() and folded[run - 1].isalnum():
        run -= 1
    return run < start and run > 0 and folded[run - 1] in _HOST_CHARACTERS


def _handle_spans(text: str) -> list[tuple[int, int, bool]]:
    """Where in ``text`` each quoted handle and profile link's identifying part is, in order,
    then each account Weibo's link markup names (:func:`_weibo_attribute_spans`), and whether
    it is an @handle (not a link's). Links are found in the folded text (:func:`_fold`); the
    spans are the text's own."""
    folded, where = _fold(text)
    found: list[re.Match[str]] = []
    pos = 0
    # Substring tests, not a regex: an alternation of names tried at every place costs as
    # much as the glued alternative itself. Naming a platform anywhere takes the full scan.
    lowered = folded.lower()
    pattern = QUOTED_HANDLE if any(host in lowered for host in _GLUED_HOSTS) else _UNGLUED
    while (match := pattern.search(folded, pos)) is not None:
        if (match.lastindex or 0) > 2 and _in_another_host(folded, match.start()):
            pos = match.start() + 1  # an @handle inside it is still one
            continue
        found.append(match)
        pos = match.end()
    spans: list[tuple[int, int, bool]] = []
    for at, match in enumerate(found):
        last = match.lastindex or 0  # never 0: every alternative ends in a group
        spans.append((*match.span(last), last == 2))
        # A link's query is read up to the next match: a link glued to it is its own.
        until = found[at + 1].start() if at + 1 < len(found) else len(folded)
        pos = match.end()
        while last > 2 and (more := _MORE.match(folded, pos, until)) is not None:
            spans.append((*more.span(1), False))
            pos = more.end()
    spans += _weibo_attribute_spans(folded, lowered)
    if where is None:
        return spans
    return [(where[start], where[end], quoted) for start, end, quoted in spans]


# An e-mail address, found in the text folded to ASCII (:data:`_ASCII_FOLD`, one character for
# one): ASCII only on both sides, so Chinese written straight before it is not taken in.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9\-])"
)
# An 18-character resident ID number (居民身份证, GB 11643: region, birth date, sequence, check
# character), found in the folded text (full-width digits and separators are ASCII there):
# 17 digits and a check character (a digit, X or x), one or two of space, dash, dot, slash
# or underscore allowed between ANY two of its characters, as people write them
# ("110105-19900101-1234", "1101 0519 9001 0112 34", "110105.19900101.1234"; QA, session 21:
# only the 6-8-4 grouping was found and the rest were shown whole). The whole span is the
# number. Not glued to more digits (a card or order number). The check character is not
# checked: a note with a mistyped one still names the person (fails closed); digits 7-14
# must read as a date (18xx-20xx), so most other 18-digit runs are not taken for one.
_ID_SEPARATOR = r"[ \-./_]{0,2}"


def _id_number_pattern(old: bool = False) -> re.Pattern[str]:
    def joined(*parts: str) -> str:
        return _ID_SEPARATOR.join(parts)

    digit = "[0-9]"
    year = f"(?:{joined('1', '[89]')}|{joined('2', '0')})"
    month = f"(?:{joined('0', '[1-9]')}|{joined('1', '[0-2]')})"
    day = f"(?:{joined('0', '[1-9]')}|{joined('[12]', digit)}|{joined('3', '[01]')})"
    if old:
        # The first-generation form: 6 digits, YYMMDD, 3 digits, no check character.
        body = joined(*[digit] * 6, digit, digit, month, day, *[digit] * 3)
    else:
        body = joined(*[digit] * 6, year, digit, digit, month, day, *[digit] * 3, "[0-9Xx]")
    return re.compile(f"(?<![0-9]){body}(?![0-9])")


_NATIONAL_ID = _id_number_pattern()
# The first-generation 15-digit form (area code, YYMMDD, sequence; no check character:
# "110105850312123", "110105-850312-123", grouped and separated as the 18-character one),
# masked whole as NATIONAL_ID and hashed as its 18-digit equivalent (shared/validators
# cn_id_token). Fifteen digits are also order, card (American Express) and account
# numbers, so only a span whose area code starts with a province's code and whose YYMMDD is
# a real date is taken (shared/validators.cn_id_from_15, the rule search uses too); an 18-digit
# number is found first, and a 15-digit span inside it is not another.
_OLD_NATIONAL_ID = _id_number_pattern(old=True)


def _old_id_spans(ascii_text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _OLD_NATIONAL_ID.finditer(ascii_text):
        try:
            cn_id_from_15("".join(c for c in match.group() if c.isdigit()))
        except ValueError:
            continue
        spans.append(match.span())
    return spans


# A bank card number (QA, session 22: "卡号6225 8802 1234 5678" was shown whole to a marketing
# analyst): 13 to 19 digits that pass the Luhn check, found in the folded text (full-width
# digits and spaces are ASCII there), written in one run or in groups of four (the last one
# shorter: 4-4-4-4-3) or 4-6-5 / 4-6-4 (American Express, Diners), one space or dash between
# groups. A group of four after the number ("... 5678 2025年") is tried without it. Not glued
# to more digits, not after a "+" (+8613812345678 is a phone number), not a mobile after 86
# (8613812345678) and not starting with 0 (0086...: a number dialled abroad). About one in
# ten other such runs passes the check too: taken for a card (fails closed). An ID number
# found there is one, not a card. A number written just after a word naming a card or an
# account (卡号, 银行卡, 账号, card, a/c) is taken whatever its check digit: a mistyped one
# still names the card (QA's "卡号6225 8802 1234 5678" fails the check).
_BANK_CARD = re.compile(
    r"(?<![0-9+])(?!861[3-9][0-9]{9}(?![0-9]))[1-9]"
    r"(?:[0-9]{12,18}|[0-9]{3}(?:[ \-][0-9]{4}){2,3}(?:[ \-][0-9]{1,4})?"
    r"|[0-9]{3}[ \-][0-9]{6}[ \-][0-9]{4,5})(?![0-9])"
)
_GROUP_END = re.compile(r"[ \-][0-9]{1,4}$")
# A word naming a card or an account in the few characters before a number (:data:`_BANK_CARD`).
_CARD_WORD = re.compile(r"卡|账号|帐号|账户|帐户|card|acct|a/?c\b", re.IGNORECASE)
_CARD_WORD_REACH = 8


def _luhn(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn check (ISO/IEC 7812 card numbers)."""
    total = 0
    for at, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if at % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_spans(ascii_text: str) -> list[tuple[int, int]]:
    """Where each bank card number (:data:`_BANK_CARD`) is, one regex scan of the text."""
    spans: list[tuple[int, int]] = []
    for match in _BANK_CARD.finditer(ascii_text):
        written, start = match.group(), match.start()
        named = _CARD_WORD.search(ascii_text, max(0, start - _CARD_WORD_REACH), start)
        for end in (len(written), _shorter(written)):
            digits = written[:end].replace(" ", "").replace("-", "")
            if 13 <= len(digits) <= 19 and (named is not None or _luhn(digits)):
                spans.append((match.start(), match.start() + end))
                break
    return spans


def _shorter(written: str) -> int:
    """Where ``written`` ends without its last group of digits (0: written in one run)."""
    last = _GROUP_END.search(written)
    return last.start() if last is not None else 0


# Seven digits or more, at most a few other characters ("+86 ", ") ", "-") between two: only
# such a text can hold a phone number, and most posts are spared the matcher.
_DIGIT_RUN = re.compile(r"\d(?:\D{0,4}\d){6}")
# A mainland mobile (1[3-9] and nine digits) glued to Latin letters ("wx13812345678", a
# WeChat id spelling the number), which the matcher leaves alone as part of a word; not inside
# a longer run of digits (an order or card number).
_GLUED_MOBILE = re.compile(r"(?<=[A-Za-z_])1[3-9]\d{9}(?!\d)|(?<!\d)1[3-9]\d{9}(?=[A-Za-z_])")
# A mainland mobile written whole (1[3-9] and nine digits) in one run or in its 3-4-4 groups
# (one or two spaces, or a dash, dot or slash with a space either side, between), "+86" or
# "0086" before it or not, bounded by non-digits: the matcher takes a lone digit or another
# group beside it for part of the number, finds it invalid and leaves it as written (QA,
# session 24: "客户2 138 1234 5678", "138 1234 5678 2", "F1 13812345678/13912345678" were shown
# whole). Found in the folded text beside the matcher's numbers, which win an overlap. Not
# inside a longer run of digits or groups glued to it (an order or card number), nor a
# decimal's digits ("0.13812345678", "13812345678.5").
_MOBILE_SEPARATOR = r"(?: {1,2}| ?[\-./] ?)?"
_SPACED_MOBILE = re.compile(
    r"(?<![0-9])(?<![0-9][.,])(?:(?:\+|00)86 ?)?1[3-9][0-9]"
    rf"{_MOBILE_SEPARATOR}[0-9]{{4}}{_MOBILE_SEPARATOR}[0-9]{{4}}(?![0-9])(?![.,][0-9])"
)
# An "@" after a group of three digits or more or a "+" country code, spaces or dashes between
# (folded text: "＠", "＋" and full-width spaces too): a number's groups ("138 @1234 5678",
# "0755 @8888 6666", "+86 @138 1234 5678"). Not after a shorter group: "转发 1 @5678123456" is
# a count and a handle, not one number (review, session 21: the handle was shown as a phone).
_AT_BETWEEN_DIGITS = re.compile(r"(?:(?<=\d{3})|(?<=\+\d)|(?<=\+\d\d))[\s\-]*@")
# Numbers that name a business, not a person (400/800 hotlines): shown as written.
_BUSINESS_NUMBERS = frozenset(
    {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST}
)


def _written_as_phone(match: phonenumbers.PhoneNumberMatch) -> bool:
    """A number the way people write one: a mobile, or dialled with its prefix ("+", "00", a
    landline's "0" before its area code). Ten digits the matcher reads as a landline without
    its "0" (3141592653) are more often an id in a link than a number."""
    kind = phonenumbers.number_type(match.number)
    if kind in _BUSINESS_NUMBERS:
        return False
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    raw = match.raw_string
    return "+" in raw or "＋" in raw or int(next(c for c in raw if c.isdigit())) == 0


def _phone_spans(text: str, ascii_text: str) -> list[tuple[int, int]]:
    """Where each phone number is: what libphonenumber's matcher (region CN, leniency VALID)
    finds, a valid number of a real plan (a mobile, a landline with its area code, +86 and
    0086 forms, spaces and dashes between, full-width digits), so amounts, dates and ids are
    not, and that is written as a number (:func:`_written_as_phone`), an "@" after its digits
    read as a space; a mobile glued to Latin letters (:data:`_GLUED_MOBILE`); and a mobile
    the matcher missed for a digit group beside it (:data:`_SPACED_MOBILE`)."""
    if _DIGIT_RUN.search(text) is None:
        return []
    if "@" in ascii_text:
        # An "@" (or "＠") between a number's digit groups ("138 @1234 5678", "138@1234@5678")
        # is read as a space: the whole number is one, not the groups around a handle. Only
        # after a group of digits (:data:`_AT_BETWEEN_DIGITS`): "@12306 13812345678" and
        # "转发 1 @5678123456" keep their handles.
        between = sorted(m.end() - 1 for m in _AT_BETWEEN_DIGITS.finditer(ascii_text))
        joined = set(between)
        spaced = "".join(" " if i in joined else c for i, c in enumerate(text))
        spaced_ascii = "".join(" " if i in joined else c for i, c in enumerate(ascii_text))
        spans = _matched_phones(spaced)
        # A join no number covers may be where one ends and other digits go on
        # ("138@1234@5678@9999": the mobile, then "@9999"; QA, session 21: no number was
        # found and the mobile's groups were shown as handles): each such "@" is tried as
        # the number's end, the others still read as spaces. The matcher reads _CUT_REACH
        # characters either side of it, not the whole text again (review, session 22: a note
        # of 4 000 characters of "138@138@..." took 38 s, each "@" a scan of the whole text).
        found, covered = set(spans), _covering(spans)
        for cut in between:
            if covered(cut, cut + 1):
                continue
            low, high = max(0, cut - _CUT_REACH), min(len(text), cut + 1 + _CUT_REACH)
            window = f"{spaced[low:cut]};{spaced[cut + 1 : high]}"
            for start, end in _matched_phones(window):
                # A number at a window's edge inside the text may go on beyond it: not taken
                # as cut there (read whole, it is the scan's of the whole text above).
                at = (low + start, low + end)
                edge = (start == 0 and low > 0) or (end == len(window) and high < len(text))
                if not edge and at not in found:
                    found.add(at)
                    spans.append(at)  # after the whole text's: those win an overlap
    else:
        spans = _matched_phones(text)
        spaced_ascii = ascii_text
    spans += [m.span() for m in _GLUED_MOBILE.finditer(ascii_text)]
    # After the matcher's: at one place, its number wins (personal_spans takes the first).
    spans += [m.span() for m in _SPACED_MOBILE.finditer(spaced_ascii)]
    return spans


# How many characters either side of an "@" tried as a number's end (:func:`_phone_spans`)
# the matcher reads: more than a number as people write it takes ("0086 @ 138 @ 1234 @ 5678",
# 24), so one ending there is read whole, and each "@" costs the same however long the text
# is (~0.5 ms). A number written over more than this before its last "@" is not found so.
_CUT_REACH = 40


def _matched_phones(text: str) -> list[tuple[int, int]]:
    """The matcher's numbers in ``text``, in order and apart."""
    return [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(text, "CN")
        if _written_as_phone(match)
    ]


def _covering(spans: list[tuple[int, int]]) -> Callable[[int, int], bool]:
    """Whether [start, end) lies inside one of ``spans`` (overlapping or not): a binary
    search over their starts and the furthest end so far, so a text of many numbers and
    handles is not checked pair by pair."""
    ordered = sorted(spans)
    starts = [start for start, _ in ordered]
    reach = list(itertools.accumulate((end for _, end in ordered), max))

    def inside(start: int, end: int) -> bool:
        at = bisect.bisect_right(starts, start)
        return at > 0 and reach[at - 1] >= end

    return inside


def _apart(chosen: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps none of ``chosen`` (sorted, apart)."""
    at = bisect.bisect_left(chosen, (start,))
    return (at == len(chosen) or end <= chosen[at][0]) and (at == 0 or chosen[at - 1][1] <= start)


# Characters that show nothing between a number's digits or a handle's letters (QA, session
# 25: "110105\u206019900102\u20600022", "6222\u00ad0212\u00ad…", "138\ufeff1234\ufeff5678",
# "@\u200bzhangsan" were shown whole and found by their digits): every format character
# (Unicode category Cf: soft hyphen, zero-width space and joiners, word joiner, BOM, bidi
# marks, Mongolian vowel separator, invisible operators, tags) and the marks and letters that
# render as nothing: the combining grapheme joiner (U+034F), variation selectors (U+FE00-FE0F,
# U+E0100-E01EF, Mongolian U+180B-180D, U+180F), Khmer's invisible vowels (U+17B4, U+17B5)
# and the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0). The one definition every kind of
# span is found through (:func:`_visible`): personal data is looked for in the text without
# them, and a span found there covers those inside it in the text as written.
_INVISIBLE_MARKS = frozenset(
    (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0,
     *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))
)  # fmt: skip


class _DropInvisible(dict[int, int | None]):
    """A ``str.translate`` table deleting the invisible characters (:data:`_INVISIBLE_MARKS`
    and category Cf), keeping every other. Filled as characters are met: the Cf set is not
    listed at import (a walk over every code point costs ~0.4 s)."""

    def __missing__(self, code: int) -> int | None:
        gone = code in _INVISIBLE_MARKS or unicodedata.category(chr(code)) == "Cf"
        self[code] = None if gone else code
        return self[code]


_DROP_INVISIBLE = _DropInvisible()


def visible(text: str) -> str:
    """``text`` without its invisible characters (:class:`_DropInvisible`)."""
    return text if text.isascii() else text.translate(_DROP_INVISIBLE)


def _visible(text: str) -> tuple[str, list[int] | None]:
    """:func:`visible` ``text`` and where each of its characters (and its end) is in
    ``text`` (None: none was dropped). One pass over the text (str.translate, in C), and a
    second only for a text that holds an invisible character."""
    shown = visible(text)
    if len(shown) == len(text):
        return text, None
    where = [at for at, char in enumerate(text) if _DROP_INVISIBLE[ord(char)] is not None]
    where.append(len(text))
    return shown, where


@lru_cache(maxsize=1024)
def personal_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, kind) of the personal data ``text`` quotes, in order and apart: e-mail
    addresses (EMAIL), resident ID numbers (NATIONAL_ID) outside them, then @handles and
    profile links (SOCIAL_HANDLE) outside those (the domain after an address's "@" is no
    handle), then bank card numbers (BANK_CARD, :data:`_BANK_CARD`), then phone numbers
    (PHONE) outside all (a uid in a profile link is the link's). An @handle inside a phone
    or card number ("@13812345678", "@138 1234 5678") is that number
    written as a handle: masked as the number (QA, session 19: a policy revealing handles but
    not phones showed it). Kept for the texts
    last asked: a feed reads the same posts again and again, and libphonenumber's matcher
    costs ~0.5 ms a text.

    Every kind is looked for in the text without its invisible characters (:func:`_visible`),
    each span then read back as the text's own: from its first visible character to its last,
    the invisible ones between included ("138\\ufeff1234\\ufeff5678" is one number). One regex
    scan of each kind as before, over a text no longer than the one given."""
    shown, where = _visible(text)
    spans = _visible_spans(shown)
    if where is None:
        return spans
    return tuple(
        (where[start], where[end - 1] + 1 if end > start else where[start], kind)
        for start, end, kind in spans
    )


def _visible_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """:func:`personal_spans` of a text without invisible characters."""
    ascii_text = text if text.isascii() else text.translate(_ASCII_FOLD)  # one for one
    chosen: list[tuple[int, int, str]] = [(*m.span(), "EMAIL") for m in _EMAIL.finditer(ascii_text)]
    ids = [m.span() for m in _NATIONAL_ID.finditer(ascii_text)] + _old_id_spans(ascii_text)
    cards = _card_spans(ascii_text)
    phones = _phone_spans(text, ascii_text)
    in_number = _covering(phones + cards)
    handles = [
        (start, end)
        for start, end, quoted in _handle_spans(text)
        if not (quoted and in_number(start, end))
    ]
    chosen.sort()
    for kind, spans in (
        ("NATIONAL_ID", ids),
        ("SOCIAL_HANDLE", handles),
        ("BANK_CARD", cards),
        ("PHONE", phones),
    ):
        for start, end in spans:
            # Checked against those chosen so far, this kind's too (a glued mobile the
            # matcher also found is one number).
            if _apart(chosen, start, end):
                bisect.insort(chosen, (start, end, kind))
    return tuple(chosen)


def replace_personal(
    text: str,
    replace: Callable[[str, str], str],
    between: Callable[[str], str] | None = None,
) -> str:
    """``text`` with each piece of personal data it quotes (:func:`personal_spans`) replaced
    by ``replace(piece, kind)``; the "@" or the rest of a link stays, passed through
    ``between`` if given (what else the caller masks there). The same function decides what
    the API masks and what searches leave out. A piece is handed over without the invisible
    characters inside it (:func:`visible`), so a caller shown it whole reads it so too."""
    out: list[str] = []
    done = 0
    rest = between or str
    for start, end, kind in personal_spans(text):
        # The piece as it reads, without the invisible characters inside it (hashed or partly
        # shown like the field's value: "138\ufeff1234\ufeff5678" is 138****5678).
        out += (rest(text[done:start]), replace(visible(text[start:end]), kind))
        done = end
    out.append(rest(text[done:]))
    return "".join(out)


def _dropped(_: str, kind: str) -> str:
    return ""


@cache
def _to_simplified() -> dict[int, str]:
    """A str.translate table Traditional -> Simplified from zhconv's single-character entries.

    Character-level only (no phrase rules): str.translate runs in C, which keeps scoring and
    tagging fast, and one character stays one (an offset in the folded text is the same in the
    text). The table is read with importlib.resources (zhconv's own loader leaves its file
    open)."""
    raw = resources.files("zhconv").joinpath("zhcdict.json").read_bytes()
    table: dict[str, str] = json.loads(raw)["zh2Hans"]
    return {ord(k): v for k, v in table.items() if len(k) == 1 and len(v) == 1}


def simplified(text: str) -> str:
    """Traditional Chinese characters as simplified ones (銀行 -> 银行), the rest unchanged: the
    one fold that sentiment, brand tagging and term search read a post's text through."""
    return text.translate(_to_simplified())


def normalise(text: str) -> str:
    """NFKC, lower case, simplified Chinese: how terms and the searched text are compared."""
    return simplified(unicodedata.normalize("NFKC", text).lower())


def search_text(text: str) -> str:
    """The text terms are matched against: every quoted handle and profile link's
    identifying part, phone number, e-mail address and ID number left out (a handle's "@" or
    the rest of a link kept), then normalised. They are cut before normalising: only what the API
    masks is left out."""
    return normalise(replace_personal(text, _dropped))


__all__ = [
    "PROFILE_LINKS",
    "QUOTED_HANDLE",
    "SEARCH_TEXT_VERSION",
    "normalise",
    "personal_spans",
    "replace_personal",
    "search_text",
    "simplified",
    "visible",
]
