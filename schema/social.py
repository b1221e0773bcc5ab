"""Social listening types and root fields: mentions, sentiment over time, alerts, authors,
and the customer <-> handle links.

Post and SocialAccount carry ``policy_resource`` (Private): the resource whose policy
decision governs their @sensitive fields, for the privacy layer's masking extension.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.repositories import social as repo
from graph.store import Row
from privacy.types import Resource
from privacy.types import SensitiveKind as K
from resolvers import social
from resolvers.context import RequestContext
from resolvers.pagination import check_first
from resolvers.privacy import require_customer, require_customer_write, require_social
from schema.directives import sensitive
from schema.extensions.masking import quoting
from schema.pagination import Connection, connection
from sentiment.labels import Label

Ctx = Info[RequestContext, None]

SentimentLabel = strawberry.enum(Label, name="SentimentLabel")


@strawberry.enum
class Interval(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


@strawberry.type
class SocialAccount:
    policy_resource: strawberry.Private[Resource]
    platform: str
    handle: str | None = sensitive(K.SOCIAL_HANDLE)
    display_name: str | None = sensitive(K.SOCIAL_HANDLE, description="often a real name")
    followers: int | None = None
    customer_linked: bool = strawberry.field(
        default=False, description="a customer has confirmed this handle as theirs"
    )

    @classmethod
    def from_row(cls, row: Row) -> SocialAccount:
        """row: {platform, handle, name, followers, customerIds} (accounts_by_key)."""
        linked = sorted(row.get("customerIds") or [])
        return cls(
            policy_resource=Resource(
                "SocialAccount",
                f"{row['platform']}:{row['handle']}",
                {"linkedCustomerId": linked[0] if linked else None},
            ),
            platform=row["platform"],
            handle=row["handle"],
            display_name=row.get("name"),
            followers=_int(row.get("followers")),
            customer_linked=bool(linked),
        )


@strawberry.type
class SentimentProbabilities:
    positive: float
    neutral: float
    negative: float


@strawberry.type
class Sentiment:
    score: float | None = strawberry.field(description="0 (negative) .. 1; null: not scored")
    label: SentimentLabel | None
    probabilities: SentimentProbabilities | None = strawberry.field(
        default=None, description="calibrated class probabilities; null: the model gives none"
    )
    emotion: str | None = strawberry.field(
        default=None, description="happy, angry, sad, fear, surprise or neutral"
    )
    model: str | None = strawberry.field(default=None, description="id of the scoring model")

    @classmethod
    def from_row(cls, row: Row) -> Sentiment:
        label = row.get("sentimentLabel")
        pos, neu, neg = (
            row.get(k) for k in ("sentimentPositive", "sentimentNeutral", "sentimentNegative")
        )
        return cls(
            score=row.get("sentimentScore"),
            label=Label(label) if label in Label.__members__ else None,
            probabilities=(
                SentimentProbabilities(positive=float(pos), neutral=float(neu), negative=float(neg))
                if pos is not None and neu is not None and neg is not None
                else None
            ),
            emotion=row.get("sentimentEmotion"),
            model=row.get("sentimentModel"),
        )


@strawberry.type
class PostMetrics:
    likes: int | None
    reposts: int | None
    replies: int | None
    views: int | None


@strawberry.type
class Post:
    policy_resource: strawberry.Private[Resource]
    platform: str
    post_id: str
    text: str = quoting(K.SOCIAL_HANDLE, description="@handles in it masked like handles")
    lang: str | None
    created_at: str = strawberry.field(description="ISO-8601 UTC")
    url: str | None = None
    author: SocialAccount | None = None
    sentiment: Sentiment | None = None
    brands: list[str] = strawberry.field(default_factory=list)
    products: list[str] = strawberry.field(default_factory=list)
    keywords: list[str] = strawberry.field(default_factory=list)
    metrics: PostMetrics | None = None
    is_repost: bool = False
    duplicate_of: str | None = strawberry.field(
        default=None, description="platform:postId of the earlier post with the same text"
    )

    @classmethod
    def from_row(cls, row: Row, author: Row | None, linked: str | None) -> Post:
        return cls(
            policy_resource=Resource(
                "Post", f"{row['platform']}:{row['postId']}", {"linkedCustomerId": linked}
            ),
            platform=row["platform"],
            post_id=str(row["postId"]),
            text=row.get("text") or "",
            lang=row.get("lang"),
            created_at=row.get("createdAt") or "",
            url=row.get("url"),
            author=SocialAccount.from_row(author) if author else None,
            sentiment=Sentiment.from_row(row),
            brands=list(row.get("brands") or []),
            products=list(row.get("products") or []),
            keywords=list(row.get("keywords") or []),
            metrics=PostMetrics(
                likes=_int(row.get("likes")),
                reposts=_int(row.get("reposts")),
                replies=_int(row.get("replies")),
                views=_int(row.get("views")),
            ),
            is_repost=bool(row.get("isRepost")),
            duplicate_of=row.get("duplicateOf"),
        )


PostConnection = Connection[Post]


async def build_posts(info: Ctx, rows: list[Row], customer_id: str | None = None) -> list[Post]:
    """Posts with their authors, the authors of the whole list in one batched read.

    ``customer_id``: the customer whose 360 view lists them, which governs them there."""
    loaders = info.context.social_loaders
    keys = [social.author_key(r) for r in rows]
    found = await loaders.account.load_many(social.unique_keys(keys))
    authors = {(a["platform"], a["handle"]): a for a in found if a is not None}
    posts = []
    for row, key in zip(rows, keys, strict=True):
        author = authors.get(key) if key else None
        linked = customer_id
        if linked is None and author is not None:
            ids = sorted(author.get("customerIds") or [])
            linked = ids[0] if ids else None
        posts.append(Post.from_row(row, author, linked))
    return posts


async def post_page(
    info: Ctx, total: int, rows: list[Row], skip: int, customer_id: str | None = None
) -> PostConnection:
    posts = await build_posts(info, rows, customer_id)
    return connection(
        [(p, social.offset_cursor(skip + i)) for i, p in enumerate(posts)],
        has_next=skip + len(posts) < total,
        total=total,
    )


@strawberry.type
class SentimentSummary:
    count: int
    positive: int
    neutral: int
    negative: int
    avg_score: float | None
    last_post_at: str | None = strawberry.field(description="ISO-8601 UTC")


async def customer_mentions(
    info: Ctx, customer_id: str, first: int | None, after: str | None
) -> PostConnection:
    """Posts by the customer's confirmed handles, newest first (Customer.mentions)."""
    limit = check_first(first, info.context.settings.max_page_size)
    skip = social.offset_of(after)
    loaders = info.context.social_loaders
    total, rows = await loaders.customer_posts.load(social.PostsPageKey(customer_id, skip, limit))
    return await post_page(info, total, rows, skip, customer_id)


async def customer_sentiment_summary(info: Ctx, customer_id: str) -> SentimentSummary:
    loaders = info.context.social_loaders
    row = social.summary(await loaders.customer_sentiment.load(customer_id))
    return SentimentSummary(
        count=row["count"],
        positive=row["positive"],
        neutral=row["neutral"],
        negative=row["negative"],
        avg_score=row["avgScore"],
        last_post_at=row["lastPostAt"],
    )


@strawberry.input
class MentionFilter:
    term: str | None = strawberry.field(
        default=None, description="text contains (any case), or an exact brand/product/keyword"
    )
    brand: str | None = None
    platform: str | None = strawberry.field(default=None, description="x, weibo, wechat, forum")
    label: SentimentLabel | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = strawberry.field(default=None, description="exclusive")
    include_reposts: bool | None = strawberry.field(
        default=None, description="false: leave out reposts and duplicates (default: true)"
    )


@strawberry.type
class EmotionCounts:
    happy: int
    angry: int
    sad: int
    fear: int
    surprise: int
    neutral: int


@strawberry.type
class SentimentBucket:
    start: str = strawberry.field(description="ISO-8601 UTC start of the bucket")
    count: int
    positive: int
    neutral: int
    negative: int
    unsupported: int = strawberry.field(description="posts the model could not judge")
    avg_score: float | None
    emotions: EmotionCounts

    @classmethod
    def from_bucket(cls, b: Any) -> SentimentBucket:
        return cls(
            start=b.start,
            count=b.count,
            positive=b.positive,
            neutral=b.neutral,
            negative=b.negative,
            unsupported=b.unsupported,
            avg_score=b.avg_score,
            emotions=EmotionCounts(**b.emotion_counts()),
        )


@strawberry.type
class SentimentAlert:
    start: str = strawberry.field(description="ISO-8601 UTC start of the bucket")
    count: int
    negative: int
    z_score: float | None = strawberry.field(
        description="negative volume against the trailing window; null: the window was flat"
    )
    baseline_mean: float
    top_posts: list[Post] = strawberry.field(description="its most engaging negative posts")


@strawberry.type
class TopAuthor:
    account: SocialAccount
    posts: int
    engagement: int = strawberry.field(description="likes + reposts + replies on those posts")
    reach: int = strawberry.field(description="followers + engagement")


@strawberry.type
class LinkCandidate:
    policy_resource: strawberry.Private[Resource]
    platform: str
    handle: str | None = sensitive(K.SOCIAL_HANDLE)
    display_name: str | None = sensitive(K.SOCIAL_HANDLE, description="often a real name")
    score: float = strawberry.field(default=0.0, description="name similarity 0..100")


From = Annotated[datetime, strawberry.argument(name="from")]


@strawberry.type
class SocialQuery:
    @strawberry.field(description="posts matching the filter, newest first")
    async def mentions(
        self,
        info: Ctx,
        filter: MentionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> PostConnection:
        await require_social(info.context.privacy)
        limit = check_first(first, info.context.settings.max_page_size)
        skip = social.offset_of(after)
        f = filter or MentionFilter()
        filters = social.mention_filters(
            term=f.term,
            brand=f.brand,
            platform=f.platform,
            label=f.label.value if f.label else None,
            since=f.from_,
            until=f.to,
            include_reposts=f.include_reposts,
        )
        total, rows = await repo.search_mentions(info.context.store, filters, skip, limit)
        return await post_page(info, total, rows, skip)

    @strawberry.field(description="volume and sentiment per bucket of [from, to), gaps as zero")
    async def sentiment_trend(
        self,
        info: Ctx,
        from_: From,
        to: datetime,
        interval: Interval,
        term: str | None = None,
        brand: str | None = None,
        include_reposts: bool = True,
    ) -> list[SentimentBucket]:
        await require_social(info.context.privacy)
        filters = social.term_or_brand(term, brand) | {"includeReposts": include_reposts}
        buckets = await social.trend(info.context.store, filters, from_, to, interval.value)
        return [SentimentBucket.from_bucket(b) for b in buckets]

    @strawberry.field(
        description="buckets whose negative volume spikes (z-score over the trailing window)"
    )
    async def sentiment_alerts(
        self,
        info: Ctx,
        brand: str,
        from_: From,
        to: datetime,
        interval: Interval = Interval.DAY,
        include_reposts: bool = True,
        top_posts: int = 3,
    ) -> list[SentimentAlert]:
        await require_social(info.context.privacy)
        settings = info.context.settings
        filters = {"brand": social.check_text(brand, "brand"), "includeReposts": include_reposts}
        found = await social.alerts(
            info.context.store,
            filters,
            from_,
            to,
            interval.value,
            window=settings.alert_window,
            threshold=settings.alert_z,
            top=social.check_top(top_posts, "topPosts", social.MAX_TOP_POSTS),
        )
        everything = await build_posts(info, [p for a in found for p in a.posts])
        by_key = {(p.platform, p.post_id): p for p in everything}
        return [
            SentimentAlert(
                start=a.bucket.start,
                count=a.bucket.count,
                negative=a.bucket.negative,
                z_score=a.z,
                baseline_mean=a.baseline_mean,
                top_posts=[by_key[(p["platform"], str(p["postId"]))] for p in a.posts],
            )
            for a in found
        ]

    @strawberry.field(description="authors of matching posts by reach")
    async def top_authors(
        self,
        info: Ctx,
        brand: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = None,
    ) -> list[TopAuthor]:
        await require_social(info.context.privacy)
        limit = check_first(first, info.context.settings.max_page_size)
        filters = social.mention_filters(since=from_, until=to)
        filters["brand"] = social.check_text(brand, "brand")
        rows = await repo.top_authors(info.context.store, filters, limit)
        loaders = info.context.social_loaders
        accounts = await loaders.account.load_many([(r["platform"], r["handle"]) for r in rows])
        return [
            TopAuthor(
                account=SocialAccount.from_row(account or {**r, "customerIds": []}),
                posts=int(r["posts"]),
                engagement=int(r["engagement"]),
                reach=int(r["reach"]),
            )
            for r, account in zip(rows, accounts, strict=True)
        ]

    @strawberry.field(description="unclaimed handles resembling the customer's name (suggestions)")
    async def link_candidates(self, info: Ctx, customer_id: strawberry.ID) -> list[LinkCandidate]:
        await require_customer(info.context.privacy, str(customer_id), "customerId")
        found = await social.candidates(info.context.store, str(customer_id))
        return [
            LinkCandidate(
                policy_resource=Resource(
                    "SocialAccount",
                    f"{c.platform}:{c.handle}",
                    {"linkedCustomerId": None, "candidateFor": str(customer_id)},
                ),
                platform=c.platform,
                handle=c.handle,
                display_name=c.name,
                score=c.score,
            )
            for c in found
        ]


@strawberry.type
class SocialMutation:
    @strawberry.mutation(description="confirm a handle as the customer's (unknown id: NOT_FOUND)")
    async def link_social_account(
        self, info: Ctx, customer_id: strawberry.ID, platform: str, handle: str
    ) -> SocialAccount:
        await require_customer_write(info.context.privacy, str(customer_id))
        row = await social.link_account(info.context.store, str(customer_id), platform, handle)
        loaders = info.context.social_loaders
        loaders.account.prime((row["platform"], row["handle"]), row, force=True)
        loaders.customer_posts.clear_all()
        loaders.customer_sentiment.clear_all()
        return SocialAccount.from_row(row)


__all__ = [
    "EmotionCounts",
    "Interval",
    "LinkCandidate",
    "MentionFilter",
    "Post",
    "PostConnection",
    "PostMetrics",
    "Sentiment",
    "SentimentAlert",
    "SentimentBucket",
    "SentimentLabel",
    "SentimentProbabilities",
    "SentimentSummary",
    "SocialAccount",
    "SocialMutation",
    "SocialQuery",
    "TopAuthor",
    "build_posts",
    "customer_mentions",
    "customer_sentiment_summary",
]
