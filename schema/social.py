"""Social listening types and root fields: mentions, sentiment over time, alerts, authors,
and the customer <-> handle links.

Post and SocialAccount carry ``policy_resource`` (Private): the resource whose policy
decision governs their @sensitive fields, for the privacy layer's masking extension.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import httpx
import strawberry
from strawberry.types import Info

from graph.store import Row
from privacy.types import MaskMode, Resource
from privacy.types import SensitiveKind as K
from resolvers import alert_delivery, alert_redelivery, alert_rules, alert_secrets, social
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.privacy import (
    LINK_CANDIDATE,
    customer_resource,
    require_customer,
    require_customer_write,
    require_social,
)
from schema.directives import sensitive
from schema.enums import describe_values
from schema.extensions.masking import derived, quoting
from schema.long import Long
from schema.pagination import Connection, connection
from sentiment.labels import Label

Ctx = Info[RequestContext, None]

SentimentLabel = Label
strawberry.enum(
    SentimentLabel,
    name="SentimentLabel",
    description="The sentiment of a post, as the scoring model (or a person's correction) "
    "labels it.",
)
describe_values(
    SentimentLabel,
    {"UNSUPPORTED": "not judged: the model gave the post no score"},
)


@strawberry.enum(description="The width of the time buckets a trend is counted in.")
class Interval(StrEnum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"


describe_values(
    Interval,
    {
        "HOUR": "one hour",
        "DAY": "one calendar day",
        "WEEK": "one ISO week, from Monday",
    },
)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


MASKED_HANDLE = "masked as your policy decides for social handles: partly shown, hashed or null"


@strawberry.type(description="An author's account on a social platform.")
class SocialAccount:
    policy_resource: strawberry.Private[Resource]
    platform: str = strawberry.field(description="x, weibo, wechat or forum")
    handle: str | None = sensitive(
        K.SOCIAL_HANDLE, description="the handle on the platform; " + MASKED_HANDLE
    )
    display_name: str | None = sensitive(
        K.SOCIAL_HANDLE, description="often a real name; " + MASKED_HANDLE
    )
    followers: Long | None = strawberry.field(
        default=None, description="followers when last ingested; null: not known"
    )
    # A fact about a customer, not about the public account: decided like the customer's own
    # fields (CUSTOMER_LINK), null for callers who see no customers (brand analysts).
    customer_linked: bool | None = derived(
        K.CUSTOMER_LINK,
        (MaskMode.REVEAL,),
        default=None,
        description="a customer has confirmed this handle as theirs; null unless your policy "
        "shows customer links (it does not to brand analysts)",
    )
    # The customer whose decision masks it instead of the policy_resource's (a customer's
    # 360 view: resolvers.privacy.governed_by reads it first).
    customer_id: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: Row, governing: str | None = None) -> SocialAccount:
        """row: {platform, handle, name, followers, customerIds} (accounts_by_key);
        ``governing``: the customer whose decision masks it (see ``customer_id``)."""
        linked = sorted(row.get("customerIds") or [])
        return cls(
            customer_id=governing,
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


@strawberry.type(description="The scoring model's probability of each sentiment class.")
class SentimentProbabilities:
    positive: float = strawberry.field(description="probability of POSITIVE, 0..1")
    neutral: float = strawberry.field(description="probability of NEUTRAL, 0..1")
    negative: float = strawberry.field(description="probability of NEGATIVE, 0..1")


@strawberry.type(
    description="A post's sentiment, as the scoring model gave it (at ingest or a rescore) or "
    "a person corrected it."
)
class Sentiment:
    score: float | None = strawberry.field(description="0 (negative) .. 1; null: not scored")
    label: SentimentLabel | None = strawberry.field(
        description="the label, a person's correction when corrected; null: not labelled"
    )
    probabilities: SentimentProbabilities | None = strawberry.field(
        default=None, description="calibrated class probabilities; null: the model gives none"
    )
    emotion: str | None = strawberry.field(
        default=None, description="happy, angry, sad, fear, surprise or neutral"
    )
    model: str | None = strawberry.field(default=None, description="id of the scoring model")
    corrected: bool = strawberry.field(
        default=False, description="the label is a person's correction (correctPostLabel)"
    )
    model_label: SentimentLabel | None = strawberry.field(
        default=None, description="the model's label when a person corrected it"
    )

    @classmethod
    def from_row(cls, row: Row) -> Sentiment:
        label = row.get("sentimentLabel")
        corrected = row.get("labelCorrected") is not None
        model_label = row.get("modelLabel")
        pos, neu, neg = (
            row.get(k) for k in ("sentimentPositive", "sentimentNeutral", "sentimentNegative")
        )
        return cls(
            score=row.get("sentimentScore"),
            label=Label(label) if isinstance(label, str) and label in Label.__members__ else None,
            probabilities=(
                SentimentProbabilities(positive=float(pos), neutral=float(neu), negative=float(neg))
                if pos is not None and neu is not None and neg is not None
                else None
            ),
            emotion=row.get("sentimentEmotion"),
            model=row.get("sentimentModel"),
            corrected=corrected,
            model_label=Label(model_label)
            if corrected and isinstance(model_label, str) and model_label in Label.__members__
            else None,
        )


@strawberry.type(description="A post's engagement counts, as last ingested from its platform.")
class PostMetrics:
    likes: Long | None = strawberry.field(description="likes; null: not reported")
    reposts: Long | None = strawberry.field(description="reposts (shares); null: not reported")
    replies: Long | None = strawberry.field(description="replies; null: not reported")
    views: Long | None = strawberry.field(description="views; null: not reported")


@strawberry.type(
    description="A social media post (a mention): its text, author, sentiment and the brands, "
    "products and keywords found in it. Personal data in it is masked per your policy."
)
class Post:
    policy_resource: strawberry.Private[Resource]
    platform: str = strawberry.field(description="x, weibo, wechat or forum")
    post_id: str = strawberry.field(description="the post's id on its platform")
    text: str = quoting(
        description="@handles, profile links, phone numbers and e-mail addresses in it masked "
        "like those fields"
    )
    lang: str | None = strawberry.field(
        description="language code from the source, else detected (zh, ja, ko, en, und); "
        "null: not known"
    )
    created_at: str = strawberry.field(description="when it was posted, ISO-8601 UTC")
    # A post's link names its author on most platforms (x.com/<handle>/status/...): shown only
    # to callers who see the handle itself, else null, and audited like the handle.
    url: str | None = derived(
        K.SOCIAL_HANDLE,
        (MaskMode.REVEAL,),
        default=None,
        description="link to the post; null unless the caller sees the author's handle",
    )
    author: SocialAccount | None = strawberry.field(
        default=None, description="who posted it; null: not known"
    )
    sentiment: Sentiment | None = strawberry.field(default=None, description="how it reads")
    brands: list[str] = strawberry.field(
        default_factory=list, description="brands of the hub's term lists named in the text"
    )
    products: list[str] = strawberry.field(
        default_factory=list, description="products of the hub's term lists named in the text"
    )
    keywords: list[str] = strawberry.field(
        default_factory=list, description="keywords of the hub's term lists found in the text"
    )
    metrics: PostMetrics | None = strawberry.field(default=None, description="engagement")
    is_repost: bool = strawberry.field(
        default=False, description="a repost of another post (by the source, or by its text)"
    )
    duplicate_of: str | None = strawberry.field(
        default=None, description="platform:postId of the earlier post with the same text"
    )
    # The customer whose decision masks the post and its author instead of the Post rules (a
    # customer's 360 view lists its posts as it shows the customer's own fields: the same
    # modes for the same handle and phone; resolvers.privacy.governed_by reads it first).
    customer_id: strawberry.Private[str | None] = None

    @classmethod
    def from_row(
        cls, row: Row, author: Row | None, linked: str | None, governing: str | None = None
    ) -> Post:
        return cls(
            customer_id=governing,
            policy_resource=Resource(
                "Post", f"{row['platform']}:{row['postId']}", {"linkedCustomerId": linked}
            ),
            platform=row["platform"],
            post_id=str(row["postId"]),
            text=row.get("text") or "",
            lang=row.get("lang"),
            created_at=row.get("createdAt") or "",
            url=row.get("url"),
            author=SocialAccount.from_row(author, governing) if author else None,
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


def post_of(found: social.Authored) -> Post:
    return Post.from_row(found.post, found.author, found.linked, found.governing)


async def build_posts(info: Ctx, rows: list[Row]) -> list[Post]:
    """Posts with their authors, the authors of the whole list in one batched read."""
    return [post_of(a) for a in await social.authored(info.context.social_loaders, rows)]


@strawberry.type(description="Sentiment counts over a set of posts.")
class SentimentSummary:
    count: int = strawberry.field(description="posts")
    positive: int = strawberry.field(description="posts labelled POSITIVE")
    neutral: int = strawberry.field(description="posts labelled NEUTRAL")
    negative: int = strawberry.field(description="posts labelled NEGATIVE")
    avg_score: float | None = strawberry.field(
        description="mean score of the scored posts, 0 (negative) .. 1; null: none scored"
    )
    last_post_at: str | None = strawberry.field(
        description="the newest post's time, ISO-8601 UTC; null: no posts"
    )


async def customer_mentions(
    info: Ctx, customer_id: str, first: int | None, after: str | None
) -> PostConnection:
    """Posts by the customer's confirmed handles, newest first (Customer.mentions)."""
    page = await social.customer_posts_page(
        info.context.social_loaders,
        customer_id,
        first,
        after,
        info.context.settings.max_page_size,
    )
    return connection(page.map(post_of))


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


@strawberry.input(description="Which posts to list; every given condition must hold.")
class MentionFilter:
    term: str | None = strawberry.field(
        default=None, description="text contains (any case), or an exact brand/product/keyword"
    )
    brand: str | None = strawberry.field(default=None, description="names this brand")
    platform: str | None = strawberry.field(default=None, description="x, weibo, wechat, forum")
    label: SentimentLabel | None = strawberry.field(default=None, description="has this label")
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="posted at or after (inclusive)"
    )
    to: datetime | None = strawberry.field(default=None, description="exclusive")
    query: str | None = strawberry.field(
        default=None,
        description='brand query language: (招行 OR 招商银行) AND NOT 招聘, "phrases", '
        "a NEAR/5 b, author: platform: lang: label: emotion:",
    )
    include_reposts: bool | None = strawberry.field(
        default=None, description="false: leave out reposts and duplicates (default: true)"
    )


@strawberry.type(description="Posts by the emotion the model found in them.")
class EmotionCounts:
    happy: int = strawberry.field(description="posts whose emotion is happy")
    angry: int = strawberry.field(description="posts whose emotion is angry")
    sad: int = strawberry.field(description="posts whose emotion is sad")
    fear: int = strawberry.field(description="posts whose emotion is fear")
    surprise: int = strawberry.field(description="posts whose emotion is surprise")
    neutral: int = strawberry.field(description="posts whose emotion is neutral")


PARTIAL = (
    "the bucket's span is not wholly inside [from, to): the first bucket when from is not a "
    "bucket start, the last when to is not; its counts cover only the part inside"
)


def partial_buckets(
    count: int, since: datetime, until: datetime, interval: str, tz: Any
) -> list[bool]:
    """Per bucket of a window's ``count`` buckets (in time order), whether it sticks out of
    [since, until): only the first and the last can."""
    head = social.floor(since, interval, tz) < social.utc(since)
    tail = social.floor(until, interval, tz) < social.utc(until)
    return [(i == 0 and head) or (i == count - 1 and tail) for i in range(count)]


def asked_zone(timezone: str | None, default: str) -> str:
    """The zone a trend's buckets are of: ``default`` (settings) when ``timezone`` is left
    out; an empty name is bad input as an unknown one is, not the default in disguise."""
    if timezone is None:
        return default
    if not timezone.strip():
        raise BadUserInput(
            "timezone is empty; give an IANA name like Asia/Shanghai, or leave timezone out "
            "for the server's default",
            field="timezone",
        )
    return timezone


@strawberry.type(description="Sentiment counts of the posts in one time bucket of a trend.")
class SentimentBucket:
    start: str = strawberry.field(description="ISO-8601 UTC start of the bucket")
    partial: bool = strawberry.field(description=PARTIAL)
    count: int = strawberry.field(description="posts in the bucket")
    positive: int = strawberry.field(description="posts labelled POSITIVE")
    neutral: int = strawberry.field(description="posts labelled NEUTRAL")
    negative: int = strawberry.field(description="posts labelled NEGATIVE")
    unsupported: int = strawberry.field(description="posts the model could not judge")
    avg_score: float | None = strawberry.field(
        description="mean score of the scored posts, 0 (negative) .. 1; null: none scored"
    )
    emotions: EmotionCounts = strawberry.field(description="the posts by emotion")

    @classmethod
    def from_bucket(cls, b: Any, partial: bool) -> SentimentBucket:
        return cls(
            start=b.start,
            partial=partial,
            count=b.count,
            positive=b.positive,
            neutral=b.neutral,
            negative=b.negative,
            unsupported=b.unsupported,
            avg_score=b.avg_score,
            emotions=EmotionCounts(**b.emotion_counts()),
        )


@strawberry.type(description="A bucket whose negative volume spiked against the ones before it.")
class SentimentAlert:
    start: str = strawberry.field(description="ISO-8601 UTC start of the bucket")
    count: int = strawberry.field(description="posts in the bucket")
    negative: int = strawberry.field(description="posts labelled NEGATIVE in it")
    z_score: float | None = strawberry.field(
        description="negative volume against the trailing window; null: the window was flat"
    )
    baseline_mean: float = strawberry.field(
        description="mean negative posts per bucket over the trailing window"
    )
    top_posts: list[Post] = strawberry.field(description="its most engaging negative posts")


@strawberry.enum(description="Why a bucket was alerted.")
class AlertKind(StrEnum):
    VOLUME = "VOLUME"
    NEGATIVE_SHARE = "NEGATIVE_SHARE"


describe_values(
    AlertKind,
    {
        "VOLUME": "more posts than the seasonal baseline expects (volume z at the threshold)",
        "NEGATIVE_SHARE": "a higher share of NEGATIVE among judged posts than the baseline's "
        "(binomial z at the threshold)",
    },
)


@strawberry.type(description="A word or phrase over-represented in an alerted bucket's posts.")
class SpikeTerm:
    term: str = strawberry.field(description="a word or phrase (character n-gram)")
    count: int = strawberry.field(description="posts of the bucket containing it")
    share: float = strawberry.field(description="of the bucket's posts")
    baseline_share: float = strawberry.field(description="of the baseline's posts")
    lift: float = strawberry.field(description="share against baseline share (smoothed)")


@strawberry.type(description="One emotion's part of an alerted bucket against its baseline.")
class EmotionShare:
    emotion: str = strawberry.field(description="happy, angry, sad, fear, surprise or neutral")
    count: int = strawberry.field(description="posts of the bucket with this emotion")
    share: float = strawberry.field(description="of the bucket's posts, 0..1")
    baseline_share: float = strawberry.field(description="of the baseline's posts, 0..1")


@strawberry.type(
    description="A bucket of a brand's posts that is unusual against its seasonal baseline, "
    "and why."
)
class BrandAlert:
    start: str = strawberry.field(description="ISO-8601 UTC start of the (local) bucket")
    kinds: list[AlertKind] = strawberry.field(description="the signals that fired")
    count: int = strawberry.field(description="posts in the bucket")
    negative: int = strawberry.field(description="posts labelled NEGATIVE in it")
    unsupported: int = strawberry.field(description="posts the model could not judge")
    expected: float = strawberry.field(
        description="volume expected from the seasonal baseline (this weekday / hour of day)"
    )
    volume_z: float = strawberry.field(description="(count - expected) / baseline noise")
    negative_share: float | None = strawberry.field(description="NEGATIVE of judged posts")
    baseline_negative_share: float | None = strawberry.field(
        description="NEGATIVE of judged posts in the baseline"
    )
    negative_share_z: float | None = strawberry.field(description="binomial z of the share")
    baseline_buckets: int = strawberry.field(description="buckets the baseline was built on")
    top_terms: list[SpikeTerm] = strawberry.field(
        description="words and phrases that set the bucket apart from its baseline"
    )
    emotions: list[EmotionShare] = strawberry.field(
        description="the bucket's emotion mix, largest first"
    )
    top_posts: list[Post] = strawberry.field(description="its most engaging negative posts")


@strawberry.type(description="The brand alerts of a window, and the settings they were judged by.")
class BrandAlertReport:
    timezone: str = strawberry.field(description="IANA zone the buckets are local to")
    threshold: float = strawberry.field(description="z needed for an alert")
    min_volume: int = strawberry.field(description="posts a bucket needs to be alerted")
    baseline_buckets: int = strawberry.field(description="buckets of history per baseline")
    min_baseline_buckets: int = strawberry.field(
        description="history (since the brand's first post) a bucket needs to be judged at all"
    )
    judged_buckets: int = strawberry.field(description="buckets judged (with enough history)")
    insufficient_history: list[str] = strawberry.field(
        description="bucket starts not judged for want of history: never alerted"
    )
    alerts: list[BrandAlert] = strawberry.field(description="the alerted buckets")


@strawberry.type(
    description="A stored brand-alert rule: the hub checks it and POSTs its alerts to webhooks."
)
class AlertRule:
    id: strawberry.ID = strawberry.field(description="the rule's id")
    brand: str = strawberry.field(description="the brand it watches")
    query: str | None = strawberry.field(description="brand query language, narrows the brand")
    threshold: float = strawberry.field(description="z needed for an alert")
    baseline_days: int = strawberry.field(description="days of history per baseline")
    min_volume: int = strawberry.field(description="posts a bucket needs to be alerted")
    channels: list[str] = strawberry.field(
        description="https webhook URLs the rule's alerts are POSTed to, signed"
    )
    updated_by: str | None = strawberry.field(description="who last saved the rule")
    updated_at: str | None = strawberry.field(description="when it was last saved, ISO-8601 UTC")
    secret_ref: str | None = strawberry.field(
        default=None,
        description="where the rule's webhook secret is (env:C360_ALERT_SECRET_<NAME>, "
        "file:<id>); null: C360_ALERT_WEBHOOK_SECRET. Never the secret",
    )

    @classmethod
    def from_row(cls, row: Row) -> AlertRule:
        return cls(
            id=strawberry.ID(str(row["id"])),
            brand=str(row["brand"]),
            query=row.get("query"),
            threshold=float(row["threshold"]),
            baseline_days=int(row["baselineDays"]),
            min_volume=int(row["minVolume"]),
            channels=list(row.get("channels") or []),
            updated_by=row.get("updatedBy"),
            updated_at=row.get("updatedAt"),
            secret_ref=row.get("secretRef"),
        )


@strawberry.enum(description="How an alert's webhook delivery ended.")
class DeliveryStatus(StrEnum):
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


describe_values(
    DeliveryStatus,
    {
        "DELIVERED": "the webhook accepted it",
        "DEAD": "not delivered (retries used up, refused by the receiver, or an address the hub "
        "may not send to): a dead letter, see lastError",
    },
)


@strawberry.type(description="One attempt to deliver an alert to a rule's webhook.")
class AlertDelivery:
    id: strawberry.ID = strawberry.field(description="the delivery's id")
    rule_id: str = strawberry.field(description="the rule whose alert it carries")
    url: str = strawberry.field(description="the webhook it was sent to")
    alert_start: str = strawberry.field(description="start of the alerted bucket, ISO-8601 UTC")
    status: DeliveryStatus = strawberry.field(description="how it ended")
    attempts: int = strawberry.field(description="POST attempts made")
    last_error: str | None = strawberry.field(description="why the last attempt failed")
    at: str = strawberry.field(description="when it was recorded, ISO-8601 UTC")
    redelivered_at: str | None = strawberry.field(
        default=None, description="when it was last re-sent (redeliverAlert), null: never"
    )
    redelivered_by: str | None = strawberry.field(default=None, description="who re-sent it last")

    @classmethod
    def from_row(cls, row: Row) -> AlertDelivery:
        return cls(
            id=strawberry.ID(str(row["id"])),
            rule_id=str(row["ruleId"]),
            url=str(row["url"]),
            alert_start=str(row["alertStart"]),
            status=DeliveryStatus(row["status"]),
            attempts=int(row["attempts"]),
            last_error=row.get("lastError"),
            at=str(row["at"]),
            redelivered_at=row.get("redeliveredAt"),
            redelivered_by=row.get("redeliveredBy"),
        )


@strawberry.input(description="A brand-alert rule to save.")
class AlertRuleInput:
    brand: str = strawberry.field(description="the brand to watch")
    query: str | None = strawberry.field(
        default=None, description="brand query language, narrows the brand"
    )
    threshold: float = strawberry.field(default=3.0, description="z needed for an alert")
    baseline_days: int = strawberry.field(
        default=28, description="days of history per baseline, 7..180"
    )
    min_volume: int = strawberry.field(
        default=20, description="posts a bucket needs to be alerted, at least 1"
    )
    channels: list[str] = strawberry.field(
        default_factory=list, description="https webhook URLs to POST the alerts to"
    )
    secret_ref: str | None = strawberry.field(
        default=None,
        description="env:C360_ALERT_SECRET_<NAME> (its own webhook secret from the hub's "
        "environment; only when the operator paired the rule with NAME in "
        "C360_ALERT_ENV_SECRETS, else FORBIDDEN), shared (C360_ALERT_WEBHOOK_SECRET); null "
        "keeps the rule's current one",
    )


@strawberry.type(description="One brand's volume and sentiment within a share of voice.")
class BrandVoice:
    brand: str = strawberry.field(description="the brand")
    count: int = strawberry.field(description="posts naming it")
    share: float = strawberry.field(
        description="of the volume of all the brands asked for (a post naming two counts for both)"
    )
    positive: int = strawberry.field(description="posts labelled POSITIVE")
    negative: int = strawberry.field(description="posts labelled NEGATIVE")
    positive_share: float | None = strawberry.field(description="POSITIVE of judged posts")
    negative_share: float | None = strawberry.field(description="NEGATIVE of judged posts")
    net_sentiment: float | None = strawberry.field(
        description="(positive - negative) / judged posts, -1..1; null: none judged"
    )

    @classmethod
    def from_voice(cls, v: social.Voice) -> BrandVoice:
        b = v.bucket
        judged = b.count - b.unsupported
        return cls(
            brand=v.brand,
            count=b.count,
            share=v.share,
            positive=b.positive,
            negative=b.negative,
            positive_share=b.positive / judged if judged else None,
            negative_share=b.negative / judged if judged else None,
            net_sentiment=(b.positive - b.negative) / judged if judged else None,
        )


@strawberry.type(description="The brands' share of voice in one time bucket.")
class VoiceBucket:
    start: str = strawberry.field(description="ISO-8601 UTC start of the (local) bucket")
    partial: bool = strawberry.field(description=PARTIAL)
    total: int = strawberry.field(description="the brands' counts added up")
    brands: list[BrandVoice] = strawberry.field(description="each brand in this bucket")


@strawberry.type(description="How the conversation divides among brands, overall and over time.")
class ShareOfVoice:
    timezone: str = strawberry.field(description="IANA zone the buckets are local to")
    brands: list[BrandVoice] = strawberry.field(description="over the whole window")
    buckets: list[VoiceBucket] = strawberry.field(description="bucket by bucket, in time order")


@strawberry.type(description="An author of matching posts, ranked by the engagement they drew.")
class TopAuthor:
    account: SocialAccount = strawberry.field(description="the author")
    posts: int = strawberry.field(description="their matching posts")
    engagement: Long = strawberry.field(
        description="likes + reposts + replies on those posts (the ranking)"
    )
    reach: Long = strawberry.field(description="followers: who may have seen the posts")
    influence: float = strawberry.field(
        description="log10(1 + engagement) + 0.5 * log10(1 + followers): ten times the "
        "engagement weighs as much as a hundred times the followers"
    )


@strawberry.type(description="A social account that may be a customer's, to confirm or reject.")
class LinkCandidate:
    policy_resource: strawberry.Private[Resource]
    platform: str = strawberry.field(description="x, weibo, wechat or forum")
    handle: str | None = sensitive(
        K.SOCIAL_HANDLE, description="the handle on the platform; " + MASKED_HANDLE
    )
    display_name: str | None = sensitive(
        K.SOCIAL_HANDLE, description="often a real name; " + MASKED_HANDLE
    )
    score: float = strawberry.field(default=0.0, description="name similarity 0..100")


From = Annotated[datetime, strawberry.argument(name="from")]


def brand_alert(alert: social.BrandAlert, by_key: dict[tuple[str, str], Post]) -> BrandAlert:
    f, b = alert.finding, alert.finding.bucket
    emotions = b.emotion_counts()
    total = sum(emotions.values())
    return BrandAlert(
        start=b.start,
        kinds=[AlertKind(k) for k in f.kinds],
        count=b.count,
        negative=b.negative,
        unsupported=b.unsupported,
        expected=f.expected,
        volume_z=f.volume_z,
        negative_share=f.share,
        baseline_negative_share=f.baseline_share,
        negative_share_z=f.share_z,
        baseline_buckets=f.baseline_buckets,
        top_terms=[
            SpikeTerm(
                term=t.term,
                count=t.count,
                share=t.share,
                baseline_share=t.baseline_share,
                lift=t.lift,
            )
            for t in alert.terms
        ],
        emotions=[
            EmotionShare(
                emotion=e,
                count=n,
                share=n / total if total else 0.0,
                baseline_share=f.baseline_emotions.get(e, 0.0),
            )
            for e, n in sorted(emotions.items(), key=lambda kv: -kv[1])
        ],
        top_posts=[by_key[(p["platform"], str(p["postId"]))] for p in alert.posts],
    )


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
        feed = await require_social(info.context.privacy)
        f = filter or MentionFilter()
        social.check_author_filter(feed, f.query, "filter.query")
        filters = social.mention_filters(
            term=f.term,
            brand=f.brand,
            platform=f.platform,
            label=f.label.value if f.label else None,
            since=f.from_,
            until=f.to,
            include_reposts=f.include_reposts,
            query=f.query,
            brands=info.context.brands,
        )
        page = await social.mentions_page(
            info.context.store,
            info.context.social_loaders,
            filters,
            first,
            after,
            info.context.settings.max_page_size,
        )
        return connection(page.map(post_of))

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
        timezone: Annotated[
            str | None,
            strawberry.argument(description="IANA zone of the buckets (default: settings)"),
        ] = None,
        query: Annotated[
            str | None, strawberry.argument(description="brand query language (see mentions)")
        ] = None,
    ) -> list[SentimentBucket]:
        social.check_author_filter(await require_social(info.context.privacy), query)
        filters = social.term_or_brand(term, brand, query, brands=info.context.brands) | {
            "includeReposts": include_reposts
        }
        tz = social.check_zone(asked_zone(timezone, info.context.settings.timezone))
        buckets = await social.trend(info.context.store, filters, from_, to, interval.value, tz)
        partial = partial_buckets(len(buckets), from_, to, interval.value, tz)
        return [SentimentBucket.from_bucket(b, p) for b, p in zip(buckets, partial, strict=True)]

    @strawberry.field(description="each brand's volume, share and sentiment per bucket")
    async def share_of_voice(
        self,
        info: Ctx,
        brands: list[str],
        from_: From,
        to: datetime,
        interval: Interval = Interval.DAY,
        timezone: str | None = None,
        query: str | None = None,
        include_reposts: bool = True,
    ) -> ShareOfVoice:
        social.check_author_filter(await require_social(info.context.privacy), query)
        zone_name = asked_zone(timezone, info.context.settings.timezone)
        tz = social.check_zone(zone_name)
        filters = {"includeReposts": include_reposts} | social.query_filters(query)
        names = social.check_brands(info.context.brands, brands)
        whole, buckets = await social.share_of_voice(
            info.context.store, names, filters, from_, to, interval.value, tz
        )
        partial = partial_buckets(len(buckets), from_, to, interval.value, tz)
        return ShareOfVoice(
            timezone=zone_name,
            brands=[BrandVoice.from_voice(v) for v in whole],
            buckets=[
                VoiceBucket(
                    start=vs[0].bucket.start,
                    partial=p,
                    total=sum(v.bucket.count for v in vs),
                    brands=[BrandVoice.from_voice(v) for v in vs],
                )
                for vs, p in zip(buckets, partial, strict=True)
            ],
        )

    @strawberry.field(description="outbound alert deliveries, newest first (DEAD: dead letters)")
    async def alert_deliveries(
        self, info: Ctx, rule: strawberry.ID | None = None, status: DeliveryStatus | None = None
    ) -> list[AlertDelivery]:
        rows = await alert_rules.deliveries(
            info.context.privacy,
            info.context.store,
            None if rule is None else str(rule),
            status.value if status else None,
        )
        return [AlertDelivery.from_row(r) for r in rows]

    @strawberry.field(description="per-brand alert rules (brand analysts)")
    async def alert_rules(self, info: Ctx, brand: str | None = None) -> list[AlertRule]:
        rows = await alert_rules.listed(
            info.context.privacy, info.context.store, brand, info.context.brands
        )
        return [AlertRule.from_row(r) for r in rows]

    @strawberry.field(
        description="buckets whose volume or negative share spikes against a seasonal "
        "baseline read from before `from`, explained; none without enough history. "
        "With `rule`: that rule's brand, query, threshold, baseline and volume"
    )
    async def brand_alerts(
        self,
        info: Ctx,
        from_: From,
        to: datetime,
        interval: Interval = Interval.DAY,
        timezone: str | None = None,
        include_reposts: bool = True,
        top_posts: int = 3,
        top_terms: int = 10,
        query: str | None = None,
        brand: str | None = None,
        rule: strawberry.ID | None = None,
    ) -> BrandAlertReport:
        feed = await require_social(info.context.privacy)
        settings = info.context.settings
        zone_name = asked_zone(timezone, settings.timezone)
        tz = social.check_zone(zone_name)
        config = social.alert_config(interval.value, settings)
        if rule is not None:
            found = await alert_rules.load(info.context.privacy, info.context.store, str(rule))
            brand = alert_rules.rule_brand(found, info.context.brands)
            query = found.get("query") or query
            config = alert_rules.apply(found, config, interval.value)
        if brand is None:
            raise BadUserInput("give brand or rule", field="brand")
        social.check_author_filter(feed, query, "rule" if rule is not None else "query")
        filters = {
            "brand": social.check_brand(info.context.brands, brand, "brand"),
            "includeReposts": include_reposts,
        } | social.query_filters(query)
        report = await social.brand_alerts(
            info.context.store,
            filters,
            from_,
            to,
            interval.value,
            tz,
            config,
            top_posts=social.check_top(top_posts, "topPosts", social.MAX_TOP_POSTS),
            top_terms=social.check_top(top_terms, "topTerms", social.MAX_TOP_POSTS),
        )
        everything = await build_posts(info, [p for a in report.alerts for p in a.posts])
        by_key = {(p.platform, p.post_id): p for p in everything}
        return BrandAlertReport(
            timezone=zone_name,
            threshold=config.threshold,
            min_volume=config.min_volume,
            baseline_buckets=config.baseline,
            min_baseline_buckets=config.min_baseline,
            judged_buckets=report.judged,
            insufficient_history=report.insufficient,
            alerts=[brand_alert(a, by_key) for a in report.alerts],
        )

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
        filters = {
            "brand": social.check_brand(info.context.brands, brand, "brand"),
            "includeReposts": include_reposts,
        }
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

    @strawberry.field(description="authors of matching posts by engagement (reach apart)")
    async def top_authors(
        self,
        info: Ctx,
        brand: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = None,
    ) -> list[TopAuthor]:
        await require_social(info.context.privacy)
        filters = social.mention_filters(since=from_, until=to, brands=info.context.brands)
        filters["brand"] = social.check_brand(info.context.brands, brand, "brand")
        found = await social.top_authors(
            info.context.store,
            info.context.social_loaders,
            filters,
            first,
            info.context.settings.max_page_size,
        )
        return [
            TopAuthor(
                account=SocialAccount.from_row(account or {**r, "customerIds": []}),
                posts=int(r["posts"]),
                engagement=int(r["engagement"]),
                reach=int(r["reach"]),
                influence=social.influence(int(r["engagement"]), int(r["reach"])),
            )
            for r, account in found
        ]

    @strawberry.field(description="unclaimed handles resembling the customer's name (suggestions)")
    async def link_candidates(self, info: Ctx, customer_id: strawberry.ID) -> list[LinkCandidate]:
        cid = str(customer_id)
        await require_customer(info.context.privacy, cid, "customerId")
        found = await social.candidates(info.context.store, cid)
        # Decided as a LinkCandidate with the customer's policy attributes: the roles that may
        # link a handle to this customer see the handles they would link (the policy table).
        row = await info.context.loaders.customer.load(cid) or {}
        attributes = dict(customer_resource(cid, row).attributes)
        return [
            LinkCandidate(
                policy_resource=Resource(LINK_CANDIDATE, f"{c.platform}:{c.handle}", attributes),
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
        privacy = info.context.privacy
        await require_customer_write(privacy, str(customer_id))
        row = await social.link_account(
            privacy, info.context.store, str(customer_id), platform, handle
        )
        loaders = info.context.social_loaders
        loaders.account.prime((row["platform"], row["handle"]), row, force=True)
        loaders.customer_posts.clear_all()
        loaders.customer_sentiment.clear_all()
        # Masked by the customer's decision, as the account shows in that customer's 360 view:
        # the caller who linked it sees the link it made (the SocialAccount resource's rules
        # give a linking agent nothing, not even customerLinked).
        return SocialAccount.from_row(row, governing=str(customer_id))

    @strawberry.mutation(description="create or replace an alert rule (brand analysts)")
    async def put_alert_rule(self, info: Ctx, id: strawberry.ID, rule: AlertRuleInput) -> AlertRule:
        data = {
            "brand": rule.brand,
            "query": rule.query,
            "threshold": rule.threshold,
            "baselineDays": rule.baseline_days,
            "minVolume": rule.min_volume,
            "channels": rule.channels,
            "secretRef": rule.secret_ref,
        }
        row = await alert_rules.put(
            info.context.privacy,
            info.context.store,
            str(id),
            data,
            info.context.settings,
            info.context.brands,
        )
        return AlertRule.from_row(row)

    @strawberry.mutation(
        description="evaluate a rule over [from, to) and POST each alert, signed, to each of "
        "its channels (3 attempts with backoff); the deliveries"
    )
    async def deliver_alerts(
        self,
        info: Ctx,
        rule: strawberry.ID,
        from_: From,
        to: datetime,
        timezone: str | None = None,
    ) -> list[AlertDelivery]:
        settings = info.context.settings
        found = await alert_rules.load(info.context.privacy, info.context.store, str(rule))
        await alert_rules.put_allowed(info.context.privacy, str(rule))
        secret = alert_secrets.secret_for(found, settings)
        if not secret:
            raise BadUserInput(
                f"{alert_secrets.missing(found, settings)}; nothing was sent", field="rule"
            )
        report = await SocialQuery().brand_alerts(
            info, from_, to, timezone=timezone, rule=rule, top_posts=0, top_terms=5
        )
        alerts = [
            {
                "start": a.start,
                "kinds": [k.value for k in a.kinds],
                "count": a.count,
                "expected": a.expected,
                "negativeShare": a.negative_share,
                "terms": [t.term for t in a.top_terms],
            }
            for a in report.alerts
        ]
        async with httpx.AsyncClient(timeout=10.0) as client:
            rows = await alert_delivery.deliver(
                info.context.store, client, found, alerts, secret,
                allow=settings.alert_channel_allow,
            )  # fmt: skip
        return [AlertDelivery.from_row(r) for r in rows]

    @strawberry.mutation(
        description="send a DEAD delivery (a dead letter) again, as it was sent first (signed "
        "now, the channel checked, 3 attempts); the rule's writers; DELIVERED or being re-sent: "
        "BAD_USER_INPUT"
    )
    async def redeliver_alert(self, info: Ctx, delivery_id: strawberry.ID) -> AlertDelivery:
        async with httpx.AsyncClient(timeout=10.0) as client:
            row = await alert_redelivery.redeliver(
                info.context.privacy, info.context.store, client, str(delivery_id),
                info.context.settings,
            )  # fmt: skip
        return AlertDelivery.from_row(row)

    @strawberry.mutation(
        description="a new generated webhook secret for the rule, kept in the data dir (never "
        "the graph) and used from now on (secretRef file:<id>); shown once: give it to the "
        "receivers. The rule's writers"
    )
    async def rotate_alert_rule_secret(self, info: Ctx, id: strawberry.ID) -> str:
        return await alert_rules.rotate_secret(
            info.context.privacy, info.context.store, str(id),
            info.context.settings.resolved_data_dir,
        )  # fmt: skip

    @strawberry.mutation(
        description="delete an alert rule, and its generated secret file; false when there was none"
    )
    async def delete_alert_rule(self, info: Ctx, id: strawberry.ID) -> bool:
        return await alert_rules.delete(
            info.context.privacy, info.context.store, str(id),
            info.context.settings.resolved_data_dir,
        )  # fmt: skip

    @strawberry.mutation(
        description="a person's sentiment label for a post (brand analysts): kept over later "
        "scoring, the model's label beside it, audited, exported for `c360 sentiment train`"
    )
    async def correct_post_label(
        self,
        info: Ctx,
        platform: str,
        post_id: strawberry.ID,
        label: SentimentLabel,
        reason: str,
    ) -> Post:
        row = await social.correct_label(
            info.context.privacy,
            info.context.store,
            platform,
            str(post_id),
            label.value,
            reason,
        )
        (post,) = await build_posts(info, [row])
        return post


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
