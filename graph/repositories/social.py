"""Social aggregate: posts, the accounts that POSTED them, what they MENTION, customer links.

Times are ISO-8601 UTC strings, so time buckets are prefixes of ``createdAt`` (13 characters
for an hour, 10 for a day) and work the same on every backend without ``datetime()``.
"""

from __future__ import annotations

import contextlib
from typing import Any, LiteralString

from graph.fieldcipher import CUSTOMER, SOCIAL_ACCOUNT, cipher_of, open_items, social_owner
from graph.store import GraphStore, Row, id_windows
from graph.timerange import time_cmp, time_range
from shared.post_text import SEARCH_TEXT_VERSION, normalise, search_text
from shared.validators import is_web_link, to_utc_iso

# Filter clause every mention read shares; every value is a parameter, null means "any".
_FILTER = (
    """
    ($platform IS NULL OR p.platform = $platform)
    AND ($label IS NULL OR p.sentimentLabel = $label)
    AND """
    + time_range("p.createdAt", "$from", "$to")
    + """
    AND ($brand IS NULL OR $brand IN p.brands)
    AND ($term IS NULL OR coalesce(p.searchText, '') CONTAINS $termText
         OR $term IN p.keywords OR $term IN p.brands OR $term IN p.products)
    AND ($includeReposts OR (p.duplicateOf IS NULL AND NOT coalesce(p.isRepost, false)))
"""
)

FILTER_KEYS = ("term", "brand", "platform", "label", "from", "to")

# A post's score as a mean counts it: none for a post labelled UNSUPPORTED, though the model
# scored it (a person said it cannot be judged: correctPostLabel); the score stays on the
# post, so a correction back to another label counts it again.
JUDGED_SCORE = "CASE WHEN p.sentimentLabel = 'UNSUPPORTED' THEN null ELSE p.sentimentScore END"

# The sentiment sums of a group of posts ``p`` (RETURN items): the posts, per label, and the
# sum and count of the judged scores (:data:`JUDGED_SCORE`).
_SENTIMENT_SUMS = f"""
               count(p) AS count,
               sum(CASE WHEN p.sentimentLabel = 'POSITIVE' THEN 1 ELSE 0 END) AS positive,
               sum(CASE WHEN p.sentimentLabel = 'NEUTRAL' THEN 1 ELSE 0 END) AS neutral,
               sum(CASE WHEN p.sentimentLabel = 'NEGATIVE' THEN 1 ELSE 0 END) AS negative,
               sum(CASE WHEN p.sentimentLabel = 'UNSUPPORTED' THEN 1 ELSE 0 END) AS unsupported,
               sum(coalesce({JUDGED_SCORE}, 0.0)) AS scoreSum,
               count({JUDGED_SCORE}) AS scored"""


# A feed's order, newest first (ties by platform and post id, unique), and the keyset
# condition "``x`` comes after the post at ``$after``" in that order ($after: the
# (createdAt, platform, postId) of the last post seen, or null for the first page). Every
# feed pages by it (resolvers/social.py post_position/feed_after are the same order in
# Python), so posts arriving between pages neither repeat one nor skip one.
_FEED_ORDER = "p.createdAt DESC, p.platform, p.postId"
_AFTER = """($after IS NULL
            OR coalesce(x.createdAt, '') < $after[0]
            OR (coalesce(x.createdAt, '') = $after[0] AND (x.platform > $after[1]
                OR (x.platform = $after[1] AND x.postId > $after[2]))))"""


def _where(filters: dict[str, Any] | None) -> str:
    """The shared filter, plus a compiled query condition on ``p`` when the filters carry one
    (``queryCypher``: built by the query language from a fixed grammar, values only as the
    parameters in ``queryParams``)."""
    condition = (filters or {}).get("queryCypher")
    return _FILTER + (f"\n    AND ({condition})\n" if condition else "")


def filter_params(filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every filter parameter present (null when unset); reposts are included by default."""
    filters = filters or {}
    params = {key: filters.get(key) for key in FILTER_KEYS} | dict(filters.get("queryParams") or {})
    include = filters.get("includeReposts")
    params["includeReposts"] = True if include is None else bool(include)
    # The term as the text is searched (NFKC, lower case: "ＡＰＰ" finds "app"), by the same
    # function that wrote searchText; keywords, brands and products match it as given.
    term = params["term"]
    params["termText"] = None if term is None else normalise(str(term))
    return params


async def upsert_posts(store: GraphStore, rows: list[Row]) -> int:
    """rows: {platform, postId, props: {...Post properties}, ingestedAt, author: {handle,
    props: {name, followers, ...}} | null, brands: [name], products: [code]}.

    Idempotent: the same (platform, postId) is one node whatever the source; the first
    ingestedAt is kept. Engagement figures (likes, reposts, replies, views) only grow: an
    older copy of a post (a replayed push, a stale export) never rolls them back. A label a
    person corrected stays while the text is the one they corrected, not over an edit. The
    brand and product MENTIONS are the row's: an edit's tags replace the old ones. An
    author's display name (often a real name) is sealed under the account's data key. The
    text is kept as searched too (``searchText``: its quoted @handles left out, see
    shared/post_text.py)."""
    rows = [_with_search_text(r) for r in _seal_authors(store, rows)]
    # FOREACH, not a writing CALL {} subquery: FalkorDB runs the latter for the first UNWIND
    # row only, which dropped the links of every later row of a batch.
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (p:Post {platform: r.platform, postId: r.postId})
        WITH p, r, [p.likes, p.reposts, p.replies, p.views] AS before, p.text AS before_text
        SET p += r.props
        // A person's label was for the text they read: an edited text is the model's again
        // (the correction itself stays in the audit log of correctPostLabel).
        FOREACH (_ IN CASE WHEN p.labelCorrected IS NOT NULL AND before_text <> p.text
                           THEN [1] ELSE [] END |
            SET p.labelCorrected = null, p.labelCorrectedBy = null, p.labelCorrectedAt = null,
                p.labelCorrectionReason = null
        )
        SET p.searchText = coalesce(r.searchText, p.searchText),
            p.searchTextVersion = coalesce(r.searchTextVersion, p.searchTextVersion),
            p.modelLabel = p.sentimentLabel,
            p.sentimentLabel = coalesce(p.labelCorrected, p.sentimentLabel),
            p.ingestedAt = coalesce(p.ingestedAt, r.ingestedAt),
            p.likes = CASE WHEN p.likes IS NULL OR before[0] > p.likes
                THEN coalesce(before[0], p.likes) ELSE p.likes END,
            p.reposts = CASE WHEN p.reposts IS NULL OR before[1] > p.reposts
                THEN coalesce(before[1], p.reposts) ELSE p.reposts END,
            p.replies = CASE WHEN p.replies IS NULL OR before[2] > p.replies
                THEN coalesce(before[2], p.replies) ELSE p.replies END,
            p.views = CASE WHEN p.views IS NULL OR before[3] > p.views
                THEN coalesce(before[3], p.views) ELSE p.views END
        WITH p, r
        FOREACH (_ IN CASE WHEN r.author IS NULL THEN [] ELSE [1] END |
            MERGE (a:SocialAccount {platform: r.platform, handle: r.author.handle})
            SET a += r.author.props
            MERGE (a)-[:POSTED]->(p)
        )
        // The tags are the text's: an edit that no longer names a brand or product drops it.
        WITH p, r
        OPTIONAL MATCH (p)-[m:MENTIONS]->(t)
        WHERE (t:Brand AND NOT t.name IN coalesce(r.brands, []))
           OR (t:Product AND NOT t.code IN coalesce(r.products, []))
        DELETE m
        WITH DISTINCT p, r
        FOREACH (name IN coalesce(r.brands, []) |
            MERGE (b:Brand {name: name})
            MERGE (p)-[:MENTIONS]->(b)
        )
        FOREACH (code IN coalesce(r.products, []) |
            MERGE (x:Product {code: code})
            MERGE (p)-[:MENTIONS]->(x)
        )
        RETURN count(p) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


def _with_search_text(row: Row) -> Row:
    text = (row.get("props") or {}).get("text")
    if not isinstance(text, str):
        return {**row, "searchText": None, "searchTextVersion": None}
    return {**row, "searchText": search_text(text), "searchTextVersion": SEARCH_TEXT_VERSION}


BACKFILL_BATCH = 2000
_POSTS_TOP: LiteralString = "MATCH (p:Post) RETURN max(id(p)) AS top"
# What graph.connect.run_upgrades records once upgrade_stored_posts ran: bumped with each rule
# it gains.
POSTS_UPGRADE_VERSION = 2


async def backfill_search_text(store: GraphStore) -> int:
    """Writes ``searchText`` on posts stored before it existed (an older data dir, a graph
    copied from elsewhere), so their terms match, and again on posts whose ``searchText``
    an older :func:`search_text` wrote (``searchTextVersion`` below SEARCH_TEXT_VERSION, or
    none: before version 2 the handles of profile links other than X's stayed in it);
    returns how many. Until then such a post matches no term (fails closed: its text still
    quotes handles in full), or an older one keeps what that version left in. Nothing is
    written when nothing lacks it (opening a graph for a dry run leaves its files as they
    were); a read naming a property the graph has never seen does not create it."""
    done = 0
    async for lo, hi in id_windows(store, _POSTS_TOP, BACKFILL_BATCH):
        rows = await store.read(
            """
            MATCH (p:Post)
            WHERE id(p) >= $lo AND id(p) < $hi AND p.text IS NOT NULL
              AND (p.searchText IS NULL OR coalesce(p.searchTextVersion, 1) < $version)
            RETURN p.platform AS platform, p.postId AS postId, p.text AS text
            """,
            {"lo": lo, "hi": hi, "version": SEARCH_TEXT_VERSION},
        )
        if not rows:
            continue
        await store.write(
            """
            UNWIND $rows AS r
            MATCH (p:Post {platform: r.platform, postId: r.postId})
            SET p.searchText = r.searchText, p.searchTextVersion = $version
            """,
            {
                "rows": [{**r, "searchText": search_text(str(r["text"]))} for r in rows],
                "version": SEARCH_TEXT_VERSION,
            },
        )
        done += len(rows)
    return done


async def upgrade_stored_posts(store: GraphStore, batch: int = BACKFILL_BATCH) -> int:
    """Posts stored before ingest's current rules, brought to them; returns how many changed.
    A ``createdAt`` that is a date alone (``2025-03-11``, as kept before a post time was an
    instant) becomes the time ingest stores for it now, 00:00 that day in Asia/Shanghai
    (``2025-03-10T16:00:00Z``), so it sorts and buckets among the others; a ``url`` that is
    no http(s) link (``javascript:``, ``data:``, ``file:``, now refused at ingest) is
    dropped, judged by ingest's own rule (shared.validators.is_web_link: a link with no host,
    ``http://`` or ``http:///etc/passwd``, passed a prefix test in Cypher; QA s22), so every
    post with a link is read once. Idempotent, in windows of ``batch``
    node ids (graph.store.id_windows); nothing is written when nothing matches. A date
    ingest would refuse (before 1800) is left as it is."""
    done = 0
    async for lo, hi in id_windows(store, _POSTS_TOP, batch):
        rows = await store.read(
            """
            MATCH (p:Post)
            WHERE id(p) >= $lo AND id(p) < $hi
              AND (NOT coalesce(p.createdAt, 'T') CONTAINS 'T' OR p.url IS NOT NULL)
            RETURN p.platform AS platform, p.postId AS postId, p.createdAt AS createdAt,
                   p.url AS url
            """,
            {"lo": lo, "hi": hi},
        )
        changed = [c for c in (_brought_over(r) for r in rows) if c is not None]
        if changed:
            await store.write(
                """
                UNWIND $rows AS r
                MATCH (p:Post {platform: r.platform, postId: r.postId})
                SET p.createdAt = r.createdAt, p.url = r.url
                """,
                {"rows": changed},
            )
            done += len(changed)
    return done


def _brought_over(row: Row) -> Row | None:
    """``row`` ({platform, postId, createdAt, url}) under ingest's rules; None: unchanged."""
    created, url = row["createdAt"], row["url"]
    if isinstance(created, str) and "T" not in created:
        with contextlib.suppress(ValueError):
            created = to_utc_iso(created, dates_at_midnight=True)
    if url is not None and not is_web_link(str(url)):
        url = None
    if (created, url) == (row["createdAt"], row["url"]):
        return None
    return {**row, "createdAt": created, "url": url}


def _seal_authors(store: GraphStore, rows: list[Row]) -> list[Row]:
    authored = [r for r in rows if r.get("author")]
    if not authored:
        return rows
    sealed = cipher_of(store).seal_many(
        SOCIAL_ACCOUNT,
        [(social_owner(r["platform"], r["author"]["handle"]), r["author"].get("props") or {})
         for r in authored],
    )  # fmt: skip
    by_row = {id(r): p for r, p in zip(authored, sealed, strict=True)}
    return [
        {**r, "author": {**r["author"], "props": by_row[id(r)]}} if id(r) in by_row else r
        for r in rows
    ]


def open_accounts(store: GraphStore, accounts: list[Row]) -> list[Row]:
    """Social account rows ({platform, handle, name, ...}) with the display name opened."""
    items = [(social_owner(a["platform"], a["handle"]), a) for a in accounts]
    return open_items(store, SOCIAL_ACCOUNT, items)


async def existing_post_keys(store: GraphStore, keys: list[Row]) -> set[tuple[str, str]]:
    """keys: {platform, postId} -> those already stored."""
    return set(await stored_posts(store, keys))


async def stored_posts(store: GraphStore, keys: list[Row]) -> dict[tuple[str, str], Row]:
    """keys: {platform, postId} -> {text, fingerprint} of those already stored, in one read
    (the ingest pipeline tells an edited post from a repeat by the text, and re-settles the
    duplicate group an edited post leaves by the fingerprint, without a read per post)."""
    rows = await store.read(
        """
        UNWIND $keys AS k
        MATCH (p:Post {platform: k.platform, postId: k.postId})
        RETURN p.platform AS platform, p.postId AS postId, p.text AS text,
               p.fingerprint AS fingerprint
        """,
        {"keys": keys},
    )
    return {
        (r["platform"], r["postId"]): {"text": r["text"], "fingerprint": r["fingerprint"]}
        for r in rows
    }


async def fingerprint_originals(store: GraphStore, fingerprints: list[str]) -> dict[str, Row]:
    """For each fingerprint already stored: ``original`` (its earliest post {platform, postId,
    createdAt}) and ``duplicates`` (how many of its posts are marked duplicateOf)."""
    rows = await store.read(
        """
        UNWIND $fps AS f
        MATCH (p:Post {fingerprint: f})
        WITH f, p ORDER BY p.createdAt, p.platform, p.postId
        WITH f, collect({platform: p.platform, postId: p.postId, createdAt: p.createdAt,
                         dup: p.duplicateOf}) AS ps
        RETURN f AS fingerprint, ps[0] AS original,
               size([x IN ps WHERE x.dup IS NOT NULL]) AS duplicates
        """,
        {"fps": fingerprints},
    )
    return {
        r["fingerprint"]: {
            "original": {k: r["original"][k] for k in ("platform", "postId", "createdAt")},
            "duplicates": r["duplicates"],
        }
        for r in rows
    }


async def settle_fingerprints(store: GraphStore, fingerprints: list[str]) -> dict[str, int]:
    """Per fingerprint, the earliest post (createdAt, platform, postId) is the original and
    every other post points to it (``duplicateOf``), whatever order they arrived in; one
    batched write. Returns fingerprint -> posts marked as duplicates."""
    rows = await store.write(
        """
        UNWIND $fps AS f
        MATCH (p:Post {fingerprint: f})
        WITH f, p ORDER BY p.createdAt, p.platform, p.postId
        WITH f, collect(p) AS ps
        WITH f, ps, ps[0].platform + ':' + ps[0].postId AS ref, id(ps[0]) AS first
        FOREACH (q IN ps |
            SET q.duplicateOf = CASE WHEN id(q) = first THEN null ELSE ref END)
        RETURN f AS fingerprint, size(ps) - 1 AS duplicates
        """,
        {"fps": fingerprints},
    )
    return {r["fingerprint"]: int(r["duplicates"]) for r in rows}


async def link_social_accounts(store: GraphStore, rows: list[Row]) -> int:
    """rows: {customerId, platform, handle}. Links each handle to its customer when the
    customer exists and no other customer holds the handle (a handle is one person's: the
    rule is ingest/social/accounts.py ``link_conflicts``, checked before this write by
    linkSocialAccount and the import; here the check and the link are one statement, so a
    link made by someone else meanwhile is not doubled). How many rows are linked (also
    those linked already)."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MATCH (c:Customer {id: r.customerId})
        OPTIONAL MATCH (o:Customer)-[:HAS_SOCIAL]->(:SocialAccount {platform: r.platform,
                                                                    handle: r.handle})
        WHERE o.id <> c.id
        WITH r, c, count(o) AS others
        WITH r, c WHERE others = 0
        MERGE (a:SocialAccount {platform: r.platform, handle: r.handle})
        MERGE (c)-[:HAS_SOCIAL]->(a)
        RETURN count(a) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def search_mentions(
    store: GraphStore,
    filters: dict[str, Any] | None,
    skip: int,
    limit: int,
    after: tuple[str, str, str] | None = None,
) -> tuple[int, list[Row]]:
    """One page of matching posts (newest first: createdAt descending, then platform and
    postId) and the total count, in one round trip. ``after``: the (createdAt, platform,
    postId) of the last post seen, so a page starts after it whatever arrived since; ``skip``
    counts from there."""
    params = filter_params(filters) | {
        "skip": skip,
        "end": skip + limit,
        "after": None if after is None else list(after),
    }
    rows = await store.read(
        """
        MATCH (p:Post)
        WHERE """
        + _where(filters)
        + """
        WITH p ORDER BY """
        + _FEED_ORDER
        + """
        WITH count(p) AS total, collect(p {.*}) AS ps
        RETURN total, [x IN ps WHERE """
        + _AFTER
        + """][$skip..$end] AS posts
        """,
        params,
    )
    if not rows:
        return 0, []
    return int(rows[0]["total"]), list(rows[0]["posts"] or [])


async def candidate_posts(
    store: GraphStore, filters: dict[str, Any] | None, limit: int
) -> list[Row]:
    """Matching posts, newest first, at most ``limit``: for a query the graph can only
    narrow down (NEAR), decided post by post afterwards."""
    params = filter_params(filters) | {"limit": limit}
    return [
        r["post"]
        for r in await store.read(
            """
            MATCH (p:Post)
            WHERE """
            + _where(filters)
            + """
            WITH p ORDER BY p.createdAt DESC, p.platform, p.postId
            LIMIT $limit
            RETURN p {.*} AS post
            """,
            params,
        )
    ]


async def top_posts(store: GraphStore, filters: dict[str, Any] | None, limit: int) -> list[Row]:
    """Matching posts with the most engagement (likes + reposts + replies)."""
    params = filter_params(filters) | {"limit": limit}
    return [
        r["post"]
        for r in await store.read(
            """
            MATCH (p:Post)
            WHERE """
            + _where(filters)
            + """
            WITH p, coalesce(p.likes, 0) + coalesce(p.reposts, 0) + coalesce(p.replies, 0) AS e
            ORDER BY e DESC, p.createdAt DESC, p.postId
            LIMIT $limit
            RETURN p {.*} AS post
            """,
            params,
        )
    ]


async def trend_rows(store: GraphStore, filters: dict[str, Any] | None, width: int) -> list[Row]:
    """Per time bucket (prefix of createdAt of ``width`` characters): {bucket, count,
    positive, neutral, negative, unsupported, scoreSum, scored, emotions: [happy, angry, sad,
    fear, surprise, neutral counts]}, in time order."""
    params = filter_params(filters) | {"width": width}
    return await store.read(
        """
        MATCH (p:Post)
        WHERE """
        + _where(filters)
        + """
        WITH substring(p.createdAt, 0, $width) AS bucket, p
        RETURN bucket,"""
        + _SENTIMENT_SUMS
        + """,
               [sum(CASE WHEN p.sentimentEmotion = 'happy' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.sentimentEmotion = 'angry' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.sentimentEmotion = 'sad' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.sentimentEmotion = 'fear' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.sentimentEmotion = 'surprise' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.sentimentEmotion = 'neutral' THEN 1 ELSE 0 END)] AS emotions
        ORDER BY bucket
        """,
        params,
    )


async def trend_rows_by_brand(
    store: GraphStore, filters: dict[str, Any] | None, brands: list[str], width: int
) -> list[Row]:
    """trend_rows for each of ``brands`` in one round trip: {brand, bucket, count, ...}; a
    post naming two of them counts for both. The filters' own brand is ignored."""
    params = filter_params(filters) | {"brand": None, "brands": brands, "width": width}
    return await store.read(
        """
        UNWIND $brands AS name
        MATCH (p:Post)
        WHERE name IN p.brands AND """
        + _where(filters)
        + """
        WITH name, substring(p.createdAt, 0, $width) AS bucket, p
        RETURN name AS brand, bucket,"""
        + _SENTIMENT_SUMS
        + """
        ORDER BY brand, bucket
        """,
        params,
    )


async def correct_label(
    store: GraphStore, platform: str, post_id: str, label: str, by: str, at: str, reason: str
) -> Row | None:
    """A person's label for a post: kept over any later scoring, the model's label kept
    beside it (``modelLabel``) and who/when/why; None for an unknown post."""
    rows = await store.write(
        """
        MATCH (p:Post {platform: $platform, postId: $postId})
        SET p.modelLabel = coalesce(p.modelLabel, p.sentimentLabel),
            p.labelCorrected = $label, p.sentimentLabel = $label,
            p.labelCorrectedBy = $by, p.labelCorrectedAt = $at, p.labelCorrectionReason = $reason
        RETURN p {.*} AS post
        """,
        {"platform": platform, "postId": post_id, "label": label, "by": by, "at": at,
         "reason": reason},
    )  # fmt: skip
    return rows[0]["post"] if rows else None


async def label_corrections(store: GraphStore) -> list[Row]:
    """Every corrected post {text, label, modelLabel}: training data a person vouched for."""
    return await store.read(
        """
        MATCH (p:Post) WHERE p.labelCorrected IS NOT NULL
        RETURN p.text AS text, p.labelCorrected AS label, p.modelLabel AS modelLabel
        ORDER BY p.platform, p.postId
        """
    )


async def posts_to_rescore(
    store: GraphStore, since: str | None, after: list[str] | None, limit: int
) -> list[Row]:
    """The next ``limit`` posts (createdAt >= ``since``) after the key ``after`` =
    [createdAt, platform, postId], in key order: {platform, postId, createdAt, text}."""
    a: list[str | None] = list(after) if after else [None, None, None]
    return await store.read(
        """
        MATCH (p:Post)
        WHERE """
        + time_range("p.createdAt", "$since", None)
        + """
          AND ($at IS NULL OR """
        + time_cmp("p.createdAt", ">", "$at")
        + """
               OR (p.createdAt = $at AND (p.platform > $ap
                   OR (p.platform = $ap AND p.postId > $aid))))
        RETURN p.platform AS platform, p.postId AS postId, p.createdAt AS createdAt,
               p.text AS text
        ORDER BY createdAt, platform, postId
        LIMIT $limit
        """,
        {"since": since, "at": a[0], "ap": a[1], "aid": a[2], "limit": limit},
    )


async def set_sentiment(store: GraphStore, rows: list[Row]) -> int:
    """rows: {platform, postId, props: {sentiment* properties}}: one batched write. A label a
    person corrected stays (``labelCorrected``); the model's own is kept as ``modelLabel``."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MATCH (p:Post {platform: r.platform, postId: r.postId})
        SET p += r.props
        SET p.searchText = coalesce(r.searchText, p.searchText),
            p.modelLabel = p.sentimentLabel,
            p.sentimentLabel = coalesce(p.labelCorrected, p.sentimentLabel)
        RETURN count(p) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def top_authors(store: GraphStore, filters: dict[str, Any] | None, limit: int) -> list[Row]:
    """Authors of matching posts by engagement on those posts (likes + reposts + replies),
    then posts; ``reach`` is the followers, reported apart (a big account nobody answers is
    not a top author). Ties go by the account's node (the order accounts were first seen),
    never by the handle: a caller who sees handles only as tokens would learn where a hidden
    handle sorts among handles they know."""
    params = filter_params(filters) | {"limit": limit}
    rows = await store.read(
        """
        MATCH (a:SocialAccount)-[:POSTED]->(p:Post)
        WHERE """
        + _where(filters)
        + """
        WITH a, count(p) AS posts,
             sum(coalesce(p.likes, 0) + coalesce(p.reposts, 0) + coalesce(p.replies, 0))
                 AS engagement
        WITH a, posts, engagement, coalesce(a.followers, 0) AS followers
        RETURN a.platform AS platform, a.handle AS handle, a.name AS name,
               followers, posts, engagement, followers AS reach
        ORDER BY engagement DESC, posts DESC, id(a)
        LIMIT $limit
        """,
        params,
    )
    return open_accounts(store, rows)


async def customer_posts(
    store: GraphStore,
    customer_ids: list[str],
    limit: int,
    after: tuple[str, str, str] | None = None,
) -> dict[str, tuple[int, list[Row]]]:
    """Posts by each customer's linked accounts in feed order (newest first): id -> (total,
    the ``limit`` posts after the post at ``after``); the total counts every post."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (c:Customer {id: id})-[:HAS_SOCIAL]->(:SocialAccount)-[:POSTED]->(p:Post)
        WITH id, p ORDER BY """
        + _FEED_ORDER
        + """
        WITH id, count(p) AS total, collect(p {.*}) AS ps
        RETURN id, total, [x IN ps WHERE """
        + _AFTER
        + """][..$limit] AS posts
        """,
        {"ids": customer_ids, "limit": limit, "after": None if after is None else list(after)},
    )
    found = {r["id"]: (int(r["total"]), list(r["posts"] or [])) for r in rows}
    return {cid: found.get(cid, (0, [])) for cid in customer_ids}


async def customer_sentiment(store: GraphStore, customer_ids: list[str]) -> dict[str, Row]:
    """Per customer: {count, positive, neutral, negative, unsupported, scoreSum, scored}."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (c:Customer {id: id})-[:HAS_SOCIAL]->(:SocialAccount)-[:POSTED]->(p:Post)
        RETURN id,"""
        + _SENTIMENT_SUMS
        + """,
               max(p.createdAt) AS lastPostAt
        """,
        {"ids": customer_ids},
    )
    empty: Row = {
        "count": 0,
        "positive": 0,
        "neutral": 0,
        "negative": 0,
        "unsupported": 0,
        "scoreSum": 0.0,
        "scored": 0,
        "lastPostAt": None,
    }
    found = {r.pop("id"): r for r in rows}
    return {cid: found.get(cid, dict(empty)) for cid in customer_ids}


async def link_candidate_data(store: GraphStore, customer_id: str, limit: int = 5000) -> Row:
    """The customer's name and the accounts no customer has claimed yet (for fuzzy matching)."""
    rows = await store.read(
        """
        MATCH (c:Customer {id: $id})
        OPTIONAL MATCH (a:SocialAccount)
        WITH c, a, [(a)<-[:HAS_SOCIAL]-(x:Customer) | x.id] AS owners
        WITH c, a, owners LIMIT $limit
        RETURN c.name AS name,
               [row IN collect({a: a, owners: owners})
                WHERE row.a IS NOT NULL AND size(row.owners) = 0
                | {platform: row.a.platform, handle: row.a.handle, name: row.a.name,
                   followers: row.a.followers}] AS accounts
        """,
        {"id": customer_id, "limit": limit},
    )
    if not rows:
        return {"name": None, "accounts": [], "found": False}
    # The name is sealed at rest: matched against handles only after decrypting it here.
    name = cipher_of(store).open_many(CUSTOMER, [(customer_id, {"name": rows[0]["name"]})])
    accounts = open_accounts(store, rows[0]["accounts"])
    return {"name": name[0].get("name"), "accounts": accounts, "found": True}


async def accounts_of_customers(store: GraphStore, customer_ids: list[str]) -> dict[str, list[Row]]:
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (c:Customer {id: id})-[:HAS_SOCIAL]->(a:SocialAccount)
        RETURN id, collect(a {.platform, .handle, .name, .followers}) AS accounts
        """,
        {"ids": customer_ids},
    )
    # One decryption batch for every customer's accounts.
    opened = iter(open_accounts(store, [a for r in rows for a in r["accounts"]]))
    found = {r["id"]: [next(opened) for _ in r["accounts"]] for r in rows}
    return {cid: found.get(cid, []) for cid in customer_ids}


async def accounts_by_key(store: GraphStore, keys: list[Row]) -> dict[tuple[str, str], Row]:
    """keys: {platform, handle} -> {platform, handle, name, followers, customerIds} of those
    stored, in one round trip (customerIds: the customers who confirmed the handle)."""
    rows = await store.read(
        """
        UNWIND $keys AS k
        MATCH (a:SocialAccount {platform: k.platform, handle: k.handle})
        RETURN a.platform AS platform, a.handle AS handle, a.name AS name,
               a.followers AS followers,
               [(a)<-[:HAS_SOCIAL]-(c:Customer) | c.id] AS customerIds
        """,
        {"keys": keys},
    )
    return {(r["platform"], r["handle"]): r for r in open_accounts(store, rows)}


async def top_posts_in_ranges(
    store: GraphStore, filters: dict[str, Any] | None, ranges: list[Row], limit: int
) -> dict[str, list[Row]]:
    """ranges: {start, since, until} (ISO strings, ``until`` exclusive) -> start -> the matching
    posts of that range with the most engagement, all ranges in one round trip. The
    filters' own from/to are ignored: each range is the window."""
    return await _per_range(
        store,
        filters,
        ranges,
        limit,
        """
        WITH rg, p, coalesce(p.likes, 0) + coalesce(p.reposts, 0) + coalesce(p.replies, 0) AS e
        ORDER BY e DESC, p.createdAt DESC, p.postId
        WITH rg, collect(p {.*}) AS items
        """,
    )


async def texts_in_ranges(
    store: GraphStore, filters: dict[str, Any] | None, ranges: list[Row], limit: int
) -> dict[str, list[str]]:
    """ranges: {start, since, until} -> start -> texts of the matching posts of that range
    (the newest ``limit``), all ranges in one round trip; the filters' from/to are ignored.
    The texts as searched (``searchText``): the terms found in them are shown to callers who
    see handles hashed, so the @handles they quote are left out."""
    return await _per_range(
        store,
        filters,
        ranges,
        limit,
        """
        WITH rg, p ORDER BY p.createdAt DESC
        WITH rg, collect(coalesce(p.searchText, '')) AS items
        """,
    )


async def _per_range(
    store: GraphStore,
    filters: dict[str, Any] | None,
    ranges: list[Row],
    limit: int,
    collect: str,
) -> dict[str, list[Any]]:
    """The first ``limit`` ``items`` that ``collect`` gathers per range from the posts
    matching ``filters`` within it, keyed by the range's start (an empty list for none)."""
    params = filter_params(filters) | {"from": None, "to": None, "ranges": ranges}
    params["limit"] = limit
    rows = await store.read(
        """
        UNWIND $ranges AS rg
        MATCH (p:Post)
        WHERE """
        + time_range("p.createdAt", "rg.since", "rg.until", optional=False)
        + " AND "
        + _where(filters)
        + collect
        + " RETURN rg.start AS start, items[0..$limit] AS items",
        params,
    )
    found = {r["start"]: list(r["items"] or []) for r in rows}
    return {rg["start"]: found.get(rg["start"], []) for rg in ranges}


__all__ = [
    "FILTER_KEYS",
    "JUDGED_SCORE",
    "POSTS_UPGRADE_VERSION",
    "accounts_by_key",
    "accounts_of_customers",
    "backfill_search_text",
    "candidate_posts",
    "correct_label",
    "customer_posts",
    "customer_sentiment",
    "existing_post_keys",
    "filter_params",
    "fingerprint_originals",
    "label_corrections",
    "link_candidate_data",
    "link_social_accounts",
    "posts_to_rescore",
    "search_mentions",
    "set_sentiment",
    "settle_fingerprints",
    "stored_posts",
    "texts_in_ranges",
    "top_authors",
    "top_posts",
    "top_posts_in_ranges",
    "trend_rows",
    "trend_rows_by_brand",
    "upgrade_stored_posts",
    "upsert_posts",
]
