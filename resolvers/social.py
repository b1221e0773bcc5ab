"""Social listening for the API: argument checks, time windows, alerts, and the per-request
loaders that keep customer mentions and post authors at a constant number of round trips.

Returns rows and dataclasses; schema/social.py turns them into GraphQL types.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from strawberry.dataloader import DataLoader

from graph.repositories import social as repo
from graph.repositories.imports import lookup_social_accounts
from graph.store import GraphStore, Row
from ingest.social.accounts import (
    Candidate,
    SocialAccountLink,
    link_conflicts,
    rank_candidates,
)
from ingest.social.query_language import Query, QueryError
from ingest.social.query_language import parse as parse_query
from privacy.types import Decision, MaskMode, Resource, SensitiveKind
from resolvers.analytics import iso, iso_bound, parse_time
from resolvers.brands import BrandNames
from resolvers.errors import ApiError, BadUserInput, NotFound
from resolvers.mutations import missing_customer, validate
from resolvers.paced_loader import PacedDataLoader
from resolvers.pagination import (
    Page,
    check_first,
    decode_cursor,
    fetched_page,
)
from resolvers.privacy import WRITE, ForbiddenFilter, RequestPrivacy
from sentiment.alerts import SEASON, AlertConfig, Finding, Term, evaluate, top_terms
from sentiment.labels import Label
from sentiment.trends import (
    GRAPH_WIDTH,
    Bucket,
    from_rows,
    graph_width,
    local_floor,
    next_start,
    rows_from_posts,
    spikes,
    step,
    zone,
)
from shared.platforms import PLATFORMS
from shared.settings import Settings

# A chart of more buckets than this is a mistake (an HOUR trend over years), not a request.
MAX_BUCKETS = 2000
MAX_TOP_POSTS = 20
MAX_TEXT_ARG = 200
MAX_QUERY_CANDIDATES = 20_000  # posts read for a query the graph can only narrow (NEAR)
MAX_TERM_POSTS = 2000  # posts read per bucket or baseline to find what sets a spike apart
# Times a window may name: bucket and baseline arithmetic (and zone offsets) near year 1 or
# 9999 overflows Python's datetime, and no post is that old or that far ahead.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """A time without an offset is read as UTC, the stored zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def floor(moment: datetime, interval: str, tz: tzinfo = UTC) -> datetime:
    """The start (UTC) of the HOUR / DAY / WEEK (ISO, Monday) bucket of ``tz`` holding
    ``moment``."""
    return local_floor(utc(moment), interval, tz).astimezone(UTC)


def check_zone(name: str | None) -> tzinfo:
    try:
        return zone(name)
    except ValueError as exc:
        raise BadUserInput(str(exc), field="timezone") from exc


def check_moment(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC; outside [EARLIEST, LATEST) it is bad input naming ``field``."""
    moment = utc(moment)
    if not EARLIEST <= moment < LATEST:
        raise BadUserInput(
            f"{field} must be between {iso(EARLIEST)} and {iso(LATEST)}", field=field
        )
    return moment


def check_window(since: datetime, until: datetime) -> tuple[str, str]:
    """[since, until) as stored ISO strings; an empty, reversed or out-of-range window is bad
    input."""
    since, until = check_moment(since, "from"), check_moment(until, "to")
    if utc(until) <= utc(since):
        raise BadUserInput("to must be after from", field="to")
    return iso_bound(since), iso_bound(until)


def check_text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise BadUserInput(f"{field} must not be empty", field=field)
    if len(value) > MAX_TEXT_ARG:
        raise BadUserInput(f"{field} must be at most {MAX_TEXT_ARG} characters", field=field)
    return value


def check_brand(brands: BrandNames, value: str | None, field: str) -> str | None:
    """A brand argument as the brand posts are tagged with (an alias or a traditional
    spelling read as its brand); BAD_USER_INPUT for a name that is neither (it matched
    nothing and answered zero)."""
    name = check_text(value, field)
    return None if name is None else brands.canonical(name, field)


def check_brands(brands: BrandNames, values: list[str], field: str = "brands") -> list[str]:
    """:func:`check_brand` of each: two names of one brand are that brand once."""
    return [b for b in (check_brand(brands, v, field) for v in values) if b is not None]


def check_platform(value: str | None, field: str = "platform") -> str | None:
    if value is None:
        return None
    name = value.strip().lower()
    if name not in PLATFORMS:
        raise BadUserInput(f"{field} must be one of {', '.join(PLATFORMS)}", field=field)
    return name


def query_filters(text: str | None, field: str = "query") -> dict[str, Any]:
    """A query in the brand query language as repository filters ({} for none); a query
    that cannot be read is BAD_USER_INPUT naming the column."""
    if text is None:
        return {}
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise BadUserInput(str(exc), field=field, column=exc.column) from None
    return {"queryCypher": query.cypher, "queryParams": query.params, "query": query}


def names_hidden_author(feed: Decision, query: str | None) -> bool:
    """Whether ``query`` filters by ``author:`` (a handle) for a caller who sees handles
    hashed (the feed's decision). A query that cannot be read does not (it is reported
    where it is parsed)."""
    if query is None or "author" not in query:
        return False
    try:
        fields = parse_query(query).fields
    except QueryError:
        return False
    return "author" in fields and feed.mode_for(SensitiveKind.SOCIAL_HANDLE) != MaskMode.REVEAL


def check_author_filter(feed: Decision, query: str | None, field: str = "query") -> None:
    """``author:`` matches handles: a caller who sees handles hashed could otherwise confirm a
    guessed handle by the answer or its count (FORBIDDEN_FILTER)."""
    if names_hidden_author(feed, query):
        raise ForbiddenFilter(
            "filtering by author: needs SOCIAL_HANDLE revealed; filter by text, platform, "
            "lang, label or emotion instead",
            field=field,
        )


async def matching_posts(store: GraphStore, filters: dict[str, Any]) -> list[Row] | None:
    """For a query the graph cannot decide alone: every matching post (newest first), read
    as candidates and decided here; None when the graph's own reads are exact."""
    query: Query | None = filters.get("query")
    if query is None or query.exact:
        return None
    rows = await repo.candidate_posts(store, filters, MAX_QUERY_CANDIDATES + 1)
    if len(rows) > MAX_QUERY_CANDIDATES:
        raise BadUserInput(
            f"NEAR queries read at most {MAX_QUERY_CANDIDATES} posts; narrow the window or "
            "add terms",
            field="query",
        )
    return [r for r in rows if query.matches(r)]


def term_or_brand(
    term: str | None, brand: str | None, query: str | None, *, brands: BrandNames
) -> dict[str, Any]:
    """Exactly one of term / brand (or neither with a query), as repository filters."""
    term, brand = check_text(term, "term"), check_brand(brands, brand, "brand")
    if query is not None and term is None and brand is None:
        return {"term": None, "brand": None} | query_filters(query)
    if term is None and brand is None:
        raise BadUserInput("give exactly one of term or brand", field="term")
    if term is not None and brand is not None:
        raise BadUserInput("give exactly one of term or brand, not both", field="brand")
    return {"term": term, "brand": brand} | query_filters(query)


def mention_filters(
    *,
    term: str | None = None,
    brand: str | None = None,
    platform: str | None = None,
    label: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_reposts: bool | None = None,
    query: str | None = None,
    brands: BrandNames,
) -> dict[str, Any]:
    """A MentionFilter checked field by field (the field named as ``filter.<name>``)."""
    if since is not None and until is not None:
        check_window(since, until)
    for moment, name in ((since, "filter.from"), (until, "filter.to")):
        if moment is not None:
            check_moment(moment, name)
    return query_filters(query, "filter.query") | {
        "term": check_text(term, "filter.term"),
        "brand": check_brand(brands, brand, "filter.brand"),
        "platform": check_platform(platform, "filter.platform"),
        "label": label,
        "from": iso_bound(utc(since)) if since else None,
        "to": iso_bound(utc(until)) if until else None,
        "includeReposts": include_reposts,
    }


def bucket_starts(
    since: datetime, until: datetime, interval: str, tz: tzinfo = UTC
) -> list[datetime]:
    """Start (UTC) of every bucket of ``tz`` touching [since, until)."""
    since, until = check_moment(since, "from"), check_moment(until, "to")
    first = local_floor(utc(since), interval, tz)
    last = floor(utc(until) - timedelta(microseconds=1), interval, tz)
    rough = (last - first.astimezone(UTC)) // step(interval) + 1
    if rough > MAX_BUCKETS:
        raise BadUserInput(
            f"{rough} {interval.lower()} buckets asked for; at most {MAX_BUCKETS}",
            field="interval",
        )
    out, moment = [], first
    while moment.astimezone(UTC) <= last:
        out.append(moment.astimezone(UTC))
        moment = next_start(moment, interval)
    return out


def fill_window(
    buckets: list[Bucket], since: datetime, until: datetime, interval: str, tz: tzinfo = UTC
) -> list[Bucket]:
    """Every bucket of the window in time order, quiet ones (also before the first post) as
    zero, so a chart and a z-score see silence as silence."""
    have = {b.start: b for b in buckets}
    starts = (iso(s) for s in bucket_starts(since, until, interval, tz))
    return [have.get(start, Bucket(start)) for start in starts]


async def trend(
    store: GraphStore,
    filters: dict[str, Any],
    since: datetime,
    until: datetime,
    interval: str,
    tz: tzinfo = UTC,
) -> list[Bucket]:
    """Buckets of ``tz`` over [since, until): the graph sums per UTC hour, Python per local
    bucket (a day in Beijing starts at 16:00 UTC the day before)."""
    bucket_starts(since, until, interval, tz)  # refuse a huge window before reading anything
    lo, hi = check_window(since, until)
    width = GRAPH_WIDTH[interval] if tz is UTC else graph_width(tz)
    window = filters | {"from": lo, "to": hi}
    posts = await matching_posts(store, window)
    if posts is None:
        rows = await repo.trend_rows(store, window, width)
    else:
        rows = rows_from_posts(posts, width)
    buckets = from_rows(rows, interval, None if tz is UTC else tz)
    return fill_window(buckets, since, until, interval, tz)


@dataclass(frozen=True)
class Alert:
    bucket: Bucket
    z: float | None  # None: the baseline was flat, so any rise is unusual
    baseline_mean: float
    posts: list[Row]


async def alerts(
    store: GraphStore,
    filters: dict[str, Any],
    since: datetime,
    until: datetime,
    interval: str,
    *,
    window: int,
    threshold: float,
    top: int,
) -> list[Alert]:
    """Buckets of [since, until) whose negative volume spikes against the ``window`` buckets
    before each (read from before ``since`` too, so the first buckets have a baseline), with
    the most engaging negative posts of each."""
    check_window(since, until)
    history_from = floor(since, interval) - window * step(interval)
    buckets = await trend(store, filters, history_from, until, interval)
    first = iso(floor(since, interval))
    # No cold start: a bucket needs ``window`` buckets of history after the first post; the
    # empty days before a brand was first seen are no data, not a quiet baseline.
    seen = next((b.start for b in buckets if b.count > 0), None)
    judged = {b.start for k, b in enumerate(buckets) if seen and k >= window
              and buckets[k - window].start >= seen}  # fmt: skip
    found = [
        s for s in spikes(buckets, window, threshold) if s.bucket.start >= first
        and s.bucket.start in judged
    ]  # fmt: skip
    ranges = [
        {
            "start": s.bucket.start,
            "since": s.bucket.start,
            "until": iso(datetime.fromisoformat(s.bucket.start) + step(interval)),
        }
        for s in found
    ]
    negative = filters | {"label": Label.NEGATIVE.value}
    posts = await repo.top_posts_in_ranges(store, negative, ranges, top) if ranges and top else {}
    return [
        Alert(
            s.bucket,
            None if s.z == float("inf") else s.z,
            s.baseline_mean,
            posts.get(s.bucket.start, []),
        )
        for s in found
    ]


MAX_BRANDS = 10


@dataclass(frozen=True)
class Voice:
    brand: str
    bucket: Bucket
    share: float  # of the volume of all the brands in the bucket


async def share_of_voice(
    store: GraphStore,
    brands: list[str],
    filters: dict[str, Any],
    since: datetime,
    until: datetime,
    interval: str,
    tz: tzinfo,
) -> tuple[list[Voice], list[list[Voice]]]:
    """(each brand over the whole window, per bucket of ``tz`` each brand), one graph read
    (a NEAR query: its matching posts, grouped here)."""
    names = list(dict.fromkeys(b for b in (check_text(x, "brands") for x in brands) if b))
    if not 1 <= len(names) <= MAX_BRANDS:
        raise BadUserInput(f"give 1 to {MAX_BRANDS} brands", field="brands", max=MAX_BRANDS)
    bucket_starts(since, until, interval, tz)
    lo, hi = check_window(since, until)
    width = GRAPH_WIDTH[interval] if tz is UTC else graph_width(tz)
    window = filters | {"from": lo, "to": hi}
    posts = await matching_posts(store, window)
    per_brand: dict[str, list[Row]] = {n: [] for n in names}
    if posts is None:
        for row in await repo.trend_rows_by_brand(store, window, names, width):
            per_brand[row["brand"]].append(row)
    else:
        for name in names:
            per_brand[name] = rows_from_posts(
                [p for p in posts if name in (p.get("brands") or [])], width
            )
    series = {
        n: fill_window(from_rows(rows, interval, None if tz is UTC else tz), since, until,
                       interval, tz)
        for n, rows in per_brand.items()
    }  # fmt: skip
    totals = {n: sum_buckets(lo, s) for n, s in series.items()}
    whole = voices(totals)
    buckets = [voices({n: series[n][k] for n in names}) for k in range(len(series[names[0]]))]
    return whole, buckets


def sum_buckets(start: str, buckets: list[Bucket]) -> Bucket:
    out = Bucket(start)
    for b in buckets:
        out = Bucket(
            start,
            out.count + b.count,
            out.positive + b.positive,
            out.neutral + b.neutral,
            out.negative + b.negative,
            out.unsupported + b.unsupported,
            out.score_sum + b.score_sum,
            out.scored + b.scored,
        )
    return out


def voices(by_brand: dict[str, Bucket]) -> list[Voice]:
    total = sum(b.count for b in by_brand.values())
    return [Voice(n, b, b.count / total if total else 0.0) for n, b in by_brand.items()]


@dataclass(frozen=True)
class BrandAlert:
    finding: Finding
    posts: list[Row]
    terms: list[Term]


@dataclass(frozen=True)
class BrandAlertReport:
    config: AlertConfig
    judged: int
    insufficient: list[str]
    alerts: list[BrandAlert]


def alert_config(interval: str, settings: Settings) -> AlertConfig:
    """The settings' day counts as buckets of ``interval`` (hours: one week of baseline)."""
    days, least = settings.alert_baseline_days, settings.alert_min_baseline_days
    per_interval = {
        "DAY": (days, least),
        "HOUR": (7 * 24, min(least, 7) * 24),
        "WEEK": (max(days // 7, 2), max(least // 7, 2)),
    }
    baseline, minimum = per_interval[interval]
    return AlertConfig(
        threshold=settings.alert_threshold_z,
        baseline=baseline,
        min_baseline=minimum,
        min_volume=settings.alert_min_volume,
        season=SEASON[interval],
    )


async def brand_alerts(
    store: GraphStore,
    filters: dict[str, Any],
    since: datetime,
    until: datetime,
    interval: str,
    tz: tzinfo,
    config: AlertConfig,
    *,
    top_posts: int,
    top_terms: int,
) -> BrandAlertReport:
    """Buckets of [since, until) (in ``tz``) that spike against their seasonal baseline (read
    from before ``since``), each with its most engaging negative posts, the terms that set it
    apart from its baseline and the emotions (three graph reads at most, whatever the number
    of alerts)."""
    check_window(since, until)
    start = floor(since, interval, tz)
    history_from = start - config.baseline * step(interval)
    buckets = await trend(store, filters, history_from, until, interval, tz)
    first = next((k for k, b in enumerate(buckets) if b.start >= iso(start)), len(buckets))
    result = evaluate(buckets, first, config)
    index = {b.start: k for k, b in enumerate(buckets)}

    def end_of(k: int) -> str:
        if k + 1 < len(buckets):
            return buckets[k + 1].start
        return iso(next_start(datetime.fromisoformat(buckets[k].start).astimezone(tz), interval))

    spans = [
        {"start": f.bucket.start, "since": f.bucket.start, "until": end_of(index[f.bucket.start])}
        for f in result.findings
    ]
    negative = filters | {"label": Label.NEGATIVE.value}
    posts = await repo.top_posts_in_ranges(store, negative, spans, top_posts) if spans else {}
    texts: dict[str, list[str]] = {}
    if spans and top_terms:
        bases = [
            {
                "start": "base:" + f.bucket.start,
                "since": buckets[index[f.bucket.start] - f.baseline_buckets].start,
                "until": f.bucket.start,
            }
            for f in result.findings
        ]
        texts = await repo.texts_in_ranges(store, filters, spans + bases, MAX_TERM_POSTS)
    alerts = [
        BrandAlert(
            f,
            posts.get(f.bucket.start, []) if top_posts else [],
            top_terms_of(texts, f.bucket.start, top_terms),
        )
        for f in result.findings
    ]
    return BrandAlertReport(config, result.judged, result.insufficient, alerts)


def top_terms_of(texts: dict[str, list[str]], start: str, limit: int) -> list[Term]:
    if not limit or start not in texts:
        return []
    return top_terms(texts[start], texts.get("base:" + start, []), limit)


async def correct_label(
    privacy: RequestPrivacy,
    store: GraphStore,
    platform: str,
    post_id: str,
    label: str,
    reason: str,
) -> Row:
    """A person's label for a post (brand analysts): checked by the policy (PostLabel write),
    recorded in the audit log before and after, kept over later scoring; the post row."""
    name = check_platform(platform) or ""
    pid = check_text(post_id, "postId") or ""
    why = check_text(reason, "reason") or ""
    key = f"{name}:{pid}"
    await privacy.require_resource(Resource("PostLabel", key, {}), WRITE)
    await privacy.audit_intent({"write": f"PostLabel:{key}", "label": label})
    by = privacy.principal.subject if privacy.principal else "system"
    post = await repo.correct_label(store, name, pid, label, by, iso(datetime.now(UTC)), why)
    if post is None:
        raise NotFound("no post with this platform and id", field="postId")
    privacy.details["labelCorrection"] = {
        "post": key,
        "modelLabel": post.get("modelLabel"),
        "label": label,
        "reason": why,
    }
    return post


async def candidates(store: GraphStore, customer_id: str, limit: int = 5) -> list[Candidate]:
    """Suggested handles for a customer (nothing is linked); unknown customer: NOT_FOUND."""
    data = await repo.link_candidate_data(store, customer_id)
    if not data["found"]:
        raise NotFound("no customer with this id", field="customerId")
    return rank_candidates(data["name"], data["accounts"], limit) if data["name"] else []


class HandleTaken(ApiError):
    """``HANDLE_LINKED``: linkSocialAccount for a handle another customer holds."""

    code = "HANDLE_LINKED"


class LinkChanged(ApiError):
    """``LINK_CHANGED``: linkSocialAccount whose customer or handle another request changed
    between its statements, twice over; nothing is said of what changed."""

    code = "LINK_CHANGED"


async def link_account(
    privacy: RequestPrivacy, store: GraphStore, customer_id: str, platform: str, handle: str
) -> Row:
    """Confirm a handle as the customer's; the linked account row (see accounts_by_key). The
    import's model, lookup, rule and write (``c360 import social-accounts``), for one row.
    The lookup, the write (one statement checks and links) and the read of the linked account
    are three statements: when the read does not find the link (another request changed the
    customer or the handle between them) it is looked up again, once; then LinkChanged."""
    link = validate(
        SocialAccountLink, {"customerId": customer_id, "platform": platform, "handle": handle}
    )
    row = link.to_graph_row()
    key = (link.platform, link.handle)
    for _ in range(2):
        (found,) = await lookup_social_accounts(store, [row])
        if "customerId" in (found.get("missing") or []):
            raise await missing_customer(privacy, store, row["customerId"])
        _refuse_link(row, found)  # also what a write that linked nothing met
        if found.get("exists") or await repo.link_social_accounts(store, [row]):
            accounts = await repo.accounts_by_key(store, [{"platform": key[0], "handle": key[1]}])
            account = accounts.get(key)
            if account is not None and row["customerId"] in (account.get("customerIds") or []):
                return account
    raise LinkChanged(
        "the customer or the handle changed while the handle was being linked; try again",
        field="handle",
    )


def _refuse_link(row: Row, found: Row) -> None:
    # One person's handle: a second customer would show the first's posts in their 360
    # view. The other customer is not named (the caller may not see them).
    if reasons := link_conflicts(row, found):
        raise HandleTaken(reasons[0], field="handle")


AccountKey = tuple[str, str]  # (platform, handle)


FeedKey = tuple[str, str, str]  # a post's place in a feed: (createdAt, platform, postId)


@dataclass(frozen=True)
class PostsPageKey:
    customer_id: str
    after: FeedKey | None
    limit: int


class SocialLoaders:
    """Per-request batching for the social fields of Customer and for post authors."""

    def __init__(self, store: GraphStore) -> None:
        async def posts(keys: list[PostsPageKey]) -> list[tuple[int, list[Row]]]:
            groups: dict[tuple[FeedKey | None, int], list[str]] = defaultdict(list)
            for k in keys:
                groups[(k.after, k.limit)].append(k.customer_id)
            pages: dict[PostsPageKey, tuple[int, list[Row]]] = {}
            for (after, limit), ids in groups.items():
                found = await repo.customer_posts(store, list(dict.fromkeys(ids)), limit, after)
                pages.update({PostsPageKey(c, after, limit): page for c, page in found.items()})
            return [pages[k] for k in keys]

        async def sentiment(ids: list[str]) -> list[Row]:
            found = await repo.customer_sentiment(store, list(dict.fromkeys(ids)))
            return [found[i] for i in ids]

        async def accounts(keys: list[AccountKey]) -> list[Row | None]:
            wanted = [{"platform": p, "handle": h} for p, h in dict.fromkeys(keys)]
            found = await repo.accounts_by_key(store, wanted)
            return [found.get(k) for k in keys]

        self.customer_posts: DataLoader[PostsPageKey, tuple[int, list[Row]]]
        self.customer_posts = PacedDataLoader(posts)
        self.customer_sentiment: DataLoader[str, Row] = PacedDataLoader(sentiment)
        self.account: DataLoader[AccountKey, Row | None] = PacedDataLoader(accounts)


@dataclass(frozen=True)
class Authored:
    """A post row, its author's account row (if known), the customer the audit names for the
    post (the listing's customer, else the author's first linked customer) and the customer
    whose decision masks the post and its author (a customer's 360 view lists them under that
    customer's decision, the one its own fields are shown by; elsewhere None: the policy's
    Post and SocialAccount rules)."""

    post: Row
    author: Row | None
    linked: str | None
    governing: str | None = None


async def authored(
    loaders: SocialLoaders, rows: list[Row], customer_id: str | None = None
) -> list[Authored]:
    """Posts with their authors, the authors of the whole list in one batched read.

    ``customer_id``: the customer whose 360 view lists them, which governs them there."""
    keys = [author_key(r) for r in rows]
    found = await loaders.account.load_many(unique_keys(keys))
    authors = {(a["platform"], a["handle"]): a for a in found if a is not None}
    out = []
    for row, key in zip(rows, keys, strict=True):
        author = authors.get(key) if key else None
        linked = customer_id
        if linked is None and author is not None:
            ids = sorted(author.get("customerIds") or [])
            linked = ids[0] if ids else None
        out.append(Authored(row, author, linked, customer_id))
    return out


def feed_cursor(after: str | None) -> FeedKey | None:
    """The post an ``after`` cursor of a feed (``mentions``, ``Customer.mentions``) names;
    None for the first page. A one-part cursor is a position, as both feeds handed out before
    they paged by keyset: refused, with word to start again, since a position no longer says
    where the page was once newer posts have arrived."""
    try:
        last = decode_cursor(after, 3)
    except BadUserInput:
        if after is not None and is_position(after):
            raise BadUserInput(
                "after is a position cursor from before this listing paged by post: "
                "start again from the first page (without after)",
                field="after",
            ) from None
        raise
    if last is None:
        return None
    at, platform, post_id = last
    if not (post_id and platform in PLATFORMS and (at == "" or parse_time(at) is not None)):
        # Parts no post of a feed has (QA, session 15): compared as they were, a forged
        # cursor quietly gave the first page again, or an empty one.
        raise BadUserInput("after is not a cursor from this API", field="after")
    return at, platform, post_id


def is_position(cursor: str) -> bool:
    """A cursor of one part: what the feeds' position cursors were."""
    try:
        decode_cursor(cursor, 1)
    except BadUserInput:
        return False
    return True


async def mentions_page(
    store: GraphStore,
    loaders: SocialLoaders,
    filters: dict[str, Any],
    first: int | None,
    after: str | None,
    max_page_size: int,
) -> Page[Authored]:
    """Posts matching the filters, newest first. Cursors are the (createdAt, platform,
    postId) of a post, not positions: a page after one starts after that post, so posts
    arriving meanwhile (a live feed) neither repeat one nor skip one."""
    limit = check_first(first, max_page_size)
    key = feed_cursor(after)
    matching = await matching_posts(store, filters)
    if matching is None:
        total, rows = await repo.search_mentions(store, filters, 0, limit + 1, key)
    else:
        later = [r for r in matching if key is None or feed_after(r, key)]
        total, rows = len(matching), later[: limit + 1]
    page = await authored(loaders, rows)
    return fetched_page(page, limit, total, lambda a: post_position(a.post))


def post_position(row: Row) -> FeedKey:
    """A post's place in a feed (newest first), as a cursor's parts."""
    return str(row.get("createdAt") or ""), str(row["platform"]), str(row["postId"])


def feed_after(row: Row, key: FeedKey) -> bool:
    """``row`` comes after the post at ``key`` in a feed, newest first (createdAt descending,
    then platform and postId ascending, as the graph orders it)."""
    at, platform, post_id = post_position(row)
    if at != key[0]:
        return at < key[0]
    return (platform, post_id) > (key[1], key[2])


async def customer_posts_page(
    loaders: SocialLoaders,
    customer_id: str,
    first: int | None,
    after: str | None,
    max_page_size: int,
) -> Page[Authored]:
    """Posts by the customer's confirmed handles, newest first (Customer.mentions). Cursors
    are posts' places, as in :func:`mentions_page`; the customer governs every post listed."""
    limit = check_first(first, max_page_size)
    key = PostsPageKey(customer_id, feed_cursor(after), limit + 1)
    total, rows = await loaders.customer_posts.load(key)
    page = await authored(loaders, rows, customer_id)
    return fetched_page(page, limit, total, lambda a: post_position(a.post))


async def top_authors(
    store: GraphStore,
    loaders: SocialLoaders,
    filters: dict[str, Any],
    first: int | None,
    max_page_size: int,
) -> list[tuple[Row, Row | None]]:
    """(author figures, the author's account row if known) by engagement."""
    rows = await repo.top_authors(store, filters, check_first(first, max_page_size))
    accounts = await loaders.account.load_many([(r["platform"], r["handle"]) for r in rows])
    return list(zip(rows, accounts, strict=True))


def author_key(row: Row) -> AccountKey | None:
    handle = row.get("authorHandle")
    return (str(row["platform"]), str(handle)) if handle else None


def summary(row: Row) -> Row:
    """Graph sums (floats on FalkorDB) as counts, plus the mean score of the scored posts."""
    scored = int(row.get("scored") or 0)
    return {
        "count": int(row.get("count") or 0),
        "positive": int(row.get("positive") or 0),
        "neutral": int(row.get("neutral") or 0),
        "negative": int(row.get("negative") or 0),
        "avgScore": float(row.get("scoreSum") or 0.0) / scored if scored else None,
        "lastPostAt": row.get("lastPostAt"),
    }


def influence(engagement: int, followers: int) -> float:
    """Influence of an author on a topic: engagement first, audience second, both on a log
    scale (ten times the engagement weighs as much as a hundred times the followers)."""
    return round(math.log10(1 + engagement) + 0.5 * math.log10(1 + followers), 3)


def unique_keys(keys: list[AccountKey | None]) -> list[AccountKey]:
    return [k for k in dict.fromkeys(keys) if k is not None]


def check_top(value: int, field: str, cap: int) -> int:
    if value < 0 or value > cap:
        raise BadUserInput(f"{field} must be between 0 and {cap}", field=field, max=cap)
    return value


__all__ = [
    "MAX_BUCKETS",
    "MAX_TOP_POSTS",
    "AccountKey",
    "Alert",
    "Authored",
    "FeedKey",
    "PostsPageKey",
    "SocialLoaders",
    "alerts",
    "author_key",
    "authored",
    "bucket_starts",
    "candidates",
    "check_author_filter",
    "check_brand",
    "check_brands",
    "check_platform",
    "check_text",
    "check_top",
    "check_window",
    "customer_posts_page",
    "feed_cursor",
    "fill_window",
    "floor",
    "link_account",
    "mention_filters",
    "mentions_page",
    "names_hidden_author",
    "summary",
    "term_or_brand",
    "top_authors",
    "trend",
    "unique_keys",
    "utc",
]
