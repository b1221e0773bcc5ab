"""Subscriptions (graphql-transport-ws over a websocket at /graphql): new mentions and raised
alerts, each delivered in batches, masked and audited like the queries that show them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry
from strawberry.types import Info

from graph.store import Row
from resolvers import subscriptions
from schema.social import AlertKind, Post, build_posts

Ctx = Info  # info.context: a resolvers.subscription_context.ConnectionContext


@strawberry.type(
    description="An alert a stored rule raised (once per rule and bucket), with its evidence."
)
class RaisedAlert:
    rule_id: str = strawberry.field(description="the rule that raised it")
    brand: str = strawberry.field(description="the rule's brand")
    query: str | None = strawberry.field(description="the rule's query, if it has one")
    start: str = strawberry.field(description="ISO-8601 UTC start of the (local) day")
    kinds: list[AlertKind] = strawberry.field(description="the signals that fired")
    count: int = strawberry.field(description="posts in the day")
    negative: int = strawberry.field(description="posts labelled NEGATIVE in it")
    expected: float = strawberry.field(description="volume the seasonal baseline expects")
    volume_z: float = strawberry.field(description="(count - expected) / baseline noise")
    negative_share: float | None = strawberry.field(description="NEGATIVE of judged posts")
    baseline_negative_share: float | None = strawberry.field(
        description="NEGATIVE of judged posts in the baseline"
    )
    top_terms: list[str] = strawberry.field(description="what sets the day apart")
    top_posts: list[Post] = strawberry.field(description="its most engaging negative posts")
    raised_at: str = strawberry.field(description="ISO-8601 UTC")

    @classmethod
    def from_row(cls, row: Row, posts: list[Post]) -> RaisedAlert:
        return cls(
            rule_id=row["ruleId"],
            brand=row["brand"],
            query=row.get("query"),
            start=row["start"],
            kinds=[AlertKind(k) for k in row["kinds"]],
            count=int(row["count"]),
            negative=int(row["negative"]),
            expected=float(row["expected"]),
            volume_z=float(row["volumeZ"]),
            negative_share=row.get("negativeShare"),
            baseline_negative_share=row.get("baselineNegativeShare"),
            top_terms=list(row.get("terms") or []),
            top_posts=posts,
            raised_at=row["raisedAt"],
        )


@strawberry.type
class SocialSubscription:
    @strawberry.subscription(
        description="new posts as they are stored (webhook, file and X ingest), in batches; "
        "query: the brand query language (see mentions)"
    )
    async def mention_added(
        self,
        info: Ctx,
        query: Annotated[
            str | None, strawberry.argument(description="only posts matching this query")
        ] = None,
    ) -> AsyncGenerator[list[Post], None]:
        batches = await subscriptions.mentions(info.context, query)

        async def posts() -> AsyncGenerator[list[Post], None]:
            async with aclosing(batches):
                async for rows in batches:
                    yield await build_posts(info, rows)

        return posts()

    @strawberry.subscription(
        description="alerts the stored rules raise (scheduled and after each ingest batch), "
        "once per rule and day"
    )
    async def alert_raised(
        self, info: Ctx, brand: str | None = None
    ) -> AsyncGenerator[list[RaisedAlert], None]:
        batches = await subscriptions.alerts(info.context, brand)

        async def raised() -> AsyncGenerator[list[RaisedAlert], None]:
            async with aclosing(batches):
                async for rows in batches:
                    posts = await build_posts(info, [p for r in rows for p in r["posts"]])
                    by_key = {(p.platform, p.post_id): p for p in posts}
                    yield [
                        RaisedAlert.from_row(
                            r, [by_key[(p["platform"], str(p["postId"]))] for p in r["posts"]]
                        )
                        for r in rows
                    ]

        return raised()


__all__ = ["RaisedAlert", "SocialSubscription"]
