"""A social post as every source hands it to the pipeline, and the validation of raw objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from graph.text import has_control
from shared.echo import echo
from shared.platforms import PLATFORMS
from shared.validators import has_format_character, is_web_link, not_nfkc, to_utc_iso

if TYPE_CHECKING:
    from ingest.mapping import SourceFormat

# A quoted epoch (exports often write numbers as strings): 10 digits of seconds or 13 of
# milliseconds, lengths no compact ISO form (8, 12, 14 digits) has.
_EPOCH = re.compile(r"\d{10}|\d{13}")
# 1,234,567: a count as spreadsheets export it.
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")
# BCP 47 in its common forms (zh, zh-CN, zh-Hans-CN, en_US): X gives zh, en, und, qme.
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


@dataclass(frozen=True)
class SocialPost:
    platform: str
    post_id: str
    text: str
    created_at: str  # ISO-8601 UTC
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    lang: str | None = None
    url: str | None = None
    reply_to: str | None = None
    repost_of: str | None = None
    quote_of: str | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    views: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.post_id)


# Platforms' post ids and handles are tens of characters; a longer one is a broken export (a
# 10 000-character id made a 13 KB cursor). Format characters (Unicode Cf: bidi overrides such
# as U+202E, zero-width spaces) are invisible: in a handle they make it read as another.
# The zero-width joiner stays allowed: it binds emoji sequences a display handle may carry.
MAX_ID = 256
_ZWJ = "\u200d"

# The longest text a post may have, in characters. X's longest posts (Premium) are 25 000
# characters and a WeChat article or Weibo long post is below that; anything longer is no post
# but a pasted dump, and one of millions of characters cost an import 2 GB and made every
# brandAlerts call for its brand time out (its terms are counted over the baseline posts).
MAX_TEXT_CHARS = 25_000
# The longest JSON Lines line of one post the file reader reads, in bytes: the webhook's
# default body limit (C360_MAX_BODY_BYTES). A text at MAX_TEXT_CHARS fits in it even written
# as \u escapes; a longer line is refused before it is parsed (a dead letter).
MAX_POST_LINE_BYTES = 1_000_000


# Engagement counts and followers: 0 to 2^53 - 1, the integers a JSON number (a float in
# JavaScript, the console's reader) and the graph's 64-bit integers both hold exactly. A viral
# post has billions of views, far above 32 bits (the API's Long scalar carries them); a count
# beyond 2^53 is a broken export, refused rather than clamped or rounded.
MAX_COUNT = 2**53 - 1


def count_out_of_range(value: int) -> str | None:
    """Why ``value`` is no engagement count or follower number, or None."""
    if 0 <= value <= MAX_COUNT:
        return None
    return f"a count from 0 to {MAX_COUNT} (2^53 - 1), got {value}"


def text_too_long(text: str) -> str | None:
    """Why ``text`` is too long for a post, or None: the one check files, webhooks and X share."""
    if len(text) <= MAX_TEXT_CHARS:
        return None
    return (
        f"longer than {MAX_TEXT_CHARS} characters ({len(text)}), more than any post holds: "
        "split it or leave it out"
    )


# A JSON number as created_at is Unix time (X and Weibo exports write them): 10 digits of
# seconds (2001-09-09 on) or 13 of milliseconds, as for a quoted one. Any other number is
# refused, not guessed: 20250311 would be 1970-08-23 read as seconds, yet it is a date.
_EPOCH_S = (10**9, 10**10)
_EPOCH_MS = (10**12, 10**13)


def _epoch(value: float) -> datetime:
    if _EPOCH_MS[0] <= value < _EPOCH_MS[1]:
        seconds = value / 1000
    elif _EPOCH_S[0] <= value < _EPOCH_S[1]:
        seconds = value
    else:
        raise ValueError(
            f"a number as a time must be Unix epoch seconds (10 digits) or milliseconds "
            f"(13 digits), {value!r} is out of range: write a date as a string, e.g. "
            '"2025-03-11"'
        )
    return datetime.fromtimestamp(seconds, UTC)


def check_id(value: Any) -> str | None:
    """A post id or handle as stored (stripped; None: not given), or ValueError why not: the
    one rule for a post's ids; handles take it too, and :func:`check_handle`'s besides."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("must be a string or integer id")
    text = str(value).strip()
    if len(text) > MAX_ID:
        raise ValueError(f"longer than {MAX_ID} characters ({len(text)})")
    if has_format_character(text, allowed=_ZWJ):
        raise ValueError("contains an invisible formatting character (e.g. U+202E, U+200B)")
    return text or None


def check_handle(value: Any) -> str | None:
    """An account's handle as stored (None: not given), or ValueError why not: the one handle
    rule of ingest (a post's ``author``) and of confirmed links (linkSocialAccount, ``c360
    import social-accounts``: ingest/social/accounts.py). :func:`check_id`'s rule, and no
    whitespace inside: no platform's handle has any (X: letters, digits and ``_``; Weibo:
    Chinese characters, letters, digits, ``_`` and ``-``; a WeChat id: letters, digits, ``_``
    and ``-``), so ``wang li`` is a display name given as a handle, or two handles run
    together, and would be an account no post's author ever matches. Handles stored before
    this rule are read as they are.

    A leading ``@`` is how a mention writes a handle, not part of it (no platform's handle
    starts with one): ``@oldA`` is stored, linked and erased as ``oldA``. A handle not in
    Unicode NFKC form (full-width ``ｏｌｄＡ``) is refused, as the key rule of links refuses it
    (shared/validators.py ``not_nfkc``): it would be a twin of ``oldA`` that looks the same yet
    is another account, and one no link can ever name (QA, session 22)."""
    if isinstance(value, str):
        value = value.strip().removeprefix("@")
    handle = check_id(value)
    if handle is not None and any(ch.isspace() for ch in handle):
        raise ValueError(
            "contains a space or other whitespace, which no handle has (X's are letters, "
            "digits and _, Weibo's also Chinese characters and -): give the account's handle, "
            "not its display name"
        )
    if handle is not None and not_nfkc(handle):
        raise ValueError(
            "contains a full-width or look-alike character (not in Unicode NFKC form, e.g. "
            "ｏ or ＠): give the handle in plain characters, as the platform shows it"
        )
    return handle


class PostIn(BaseModel):
    """One exported or webhook post: {id, text, author, created_at, url?, reply_to?,
    repost_of?, quote_of?, lang?, platform?, likes?, reposts?, replies?, views?,
    author_name?, author_followers?}."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str
    text: str = Field(min_length=1)
    author: str | None = None
    created_at: str
    url: str | None = None
    reply_to: str | None = None
    repost_of: str | None = None
    quote_of: str | None = None
    lang: str | None = None
    platform: str | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    views: int | None = None
    author_name: str | None = None
    author_followers: int | None = None

    @field_validator("likes", "reposts", "replies", "views", "author_followers", mode="before")
    @classmethod
    def _counts(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a count, not a boolean")
        if isinstance(value, str):
            # Exports leave a cell blank for "not known" and write thousands as 1,234.
            text = value.strip()
            if not text:
                return None
            if _GROUPED.fullmatch(text):
                return int(text.replace(",", ""))
        if isinstance(value, int | float) and not 0 <= value <= MAX_COUNT:
            # Said here: pydantic's own words for a JSON number past 2^64 (read as a float)
            # name no limit.
            raise ValueError(f"a count from 0 to {MAX_COUNT} (2^53 - 1), got {value!r}")
        return value

    @field_validator("likes", "reposts", "replies", "views", "author_followers")
    @classmethod
    def _count_range(cls, value: int | None) -> int | None:
        if value is not None and (reason := count_out_of_range(value)) is not None:
            raise ValueError(reason)
        return value

    @field_validator("id", "reply_to", "repost_of", "quote_of", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str | None:
        return check_id(value)

    @field_validator("author", mode="before")
    @classmethod
    def _author(cls, value: Any) -> str | None:
        return check_handle(value)

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> str | None:
        # Stored by its primary subtag, as the hub detects and filters it (lang:zh finds
        # zh-CN and zh-Hans posts too); free text there (a bidi control, 中文) is refused.
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _LANG_TAG.fullmatch(value.strip()):
            raise ValueError(
                f"a language tag such as zh, en or zh-CN, got {echo(str(value), 20)!r}"
            )
        return value.strip().split("-")[0].split("_")[0].lower()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not is_web_link(value):
            raise ValueError("not an http(s) link (e.g. https://weibo.com/1234/AbCd)")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if (reason := text_too_long(value)) is not None:
            raise ValueError(reason)
        return value

    @field_validator("created_at", mode="before")
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> str:
        if isinstance(value, str) and _EPOCH.fullmatch(value.strip()):
            value = int(value)
        if isinstance(value, bool):
            raise ValueError("a time, not a boolean")
        if isinstance(value, int | float):
            value = _epoch(value)
        # A date alone ("2025-03-11", "20250311", "2025/3/11") is 00:00 that day in
        # Asia/Shanghai (or the mapping's zone), the zone of every time without an offset: a
        # post time is an instant. A file's mapping may give other formats ([source]
        # time_formats, date_formats, timezone), read as a CRM import reads them.
        # Refuses < 1800, > a day ahead.
        return to_utc_iso(value, dates_at_midnight=True, **(info.context or {}).get("times", {}))

    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        name = str(value).strip().lower()
        if name not in PLATFORMS:
            raise ValueError(f"unknown platform {name!r}; use one of {', '.join(PLATFORMS)}")
        return name


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (not Python's type names)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def reasons(error: ValidationError) -> list[str]:
    """Readable reasons, one per problem, naming the field."""
    out = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "post"
        out.append(f"{where}: {item['msg']}")
    return out


def _times(source: SourceFormat | None, advice: str | None) -> dict[str, Any]:
    """How ``created_at`` is read: :func:`to_utc_iso`'s arguments beyond the defaults."""
    times: dict[str, Any] = {} if advice is None else {"advice": advice}
    if source is not None:
        times |= {
            "formats": source.time_formats,
            "zone": source.timezone,
            "date_formats": source.date_formats,
        }
    return times


# The fields of a post: what a posts mapping may name (ingest/social/files.py).
POST_FIELDS = tuple(PostIn.model_fields)


def parse_post(
    raw: Any,
    default_platform: str,
    source: SourceFormat | None = None,
    *,
    time_advice: str | None = None,
) -> SocialPost:
    """Validate one raw object; raises ValueError with the reasons joined by '; '.

    ``source`` is a file mapping's [source]: its time_formats, date_formats and timezone read
    ``created_at``. ``time_advice`` ends the refusal of a ``created_at`` in no known format
    (default: a mapping's time_formats, which a file can give; a webhook says its own)."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object ({{...}}), got {_json_kind(raw)}")
    if has_control(raw):
        # Refused here so the webhook and files agree (a NUL also cannot reach the graph).
        raise ValueError("contains a control character")
    try:
        post = PostIn.model_validate(raw, context={"times": _times(source, time_advice)})
    except ValidationError as exc:
        raise ValueError("; ".join(reasons(exc))) from None
    return SocialPost(
        platform=post.platform or default_platform,
        post_id=post.id,
        text=post.text,
        created_at=post.created_at,
        author_handle=post.author,
        author_name=post.author_name,
        author_followers=post.author_followers,
        lang=post.lang,
        url=post.url,
        reply_to=post.reply_to,
        repost_of=post.repost_of,
        quote_of=post.quote_of,
        likes=post.likes,
        reposts=post.reposts,
        replies=post.replies,
        views=post.views,
    )


__all__ = [
    "MAX_COUNT",
    "MAX_POST_LINE_BYTES",
    "MAX_TEXT_CHARS",
    "PLATFORMS",
    "POST_FIELDS",
    "PostIn",
    "SocialPost",
    "check_handle",
    "check_id",
    "count_out_of_range",
    "parse_post",
    "reasons",
    "text_too_long",
]
