"""``satisfaction(from, to)``: CSAT month over month, complaint shares by product, channel
and branch, and the social sentiment for the same products beside them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.satisfaction import satisfaction_report
from schema.types import Ctx


@strawberry.type
class SatisfactionMonth:
    month: str = strawberry.field(description="YYYY-MM")
    responses: int = strawberry.field(description="satisfaction scores given")
    csat: float | None = strawberry.field(
        description="share of scores 4-5 out of 5; null under 5 responses"
    )
    change: float | None = strawberry.field(description="csat minus the previous month's")
    complaints: int
    unresolved_share: float | None


@strawberry.type
class ComplaintShare:
    key: str = strawberry.field(description="channel or branch id; OTHER pools groups under 5")
    count: int
    share: float


@strawberry.type
class ProductSatisfaction:
    product: str = strawberry.field(description="product code; OTHER pools groups under 5")
    complaints: int
    complaint_share: float
    mentions: int = strawberry.field(description="social posts mentioning the product")
    positive_share: float | None
    negative_share: float | None
    average_sentiment: float | None = strawberry.field(description="0 (negative) .. 1")


@strawberry.type
class SatisfactionReport:
    from_: datetime = strawberry.field(
        name="from",
        description="start of the window the figures cover: the asked one widened to whole "
        "calendar months (UTC), so windows inside a month cannot be differenced",
    )
    to: datetime = strawberry.field(description="end (exclusive) of the window covered")
    months: list[SatisfactionMonth]
    complaints_by_channel: list[ComplaintShare]
    complaints_by_branch: list[ComplaintShare]
    products: list[ProductSatisfaction]


@strawberry.type
class SatisfactionQuery:
    @strawberry.field(description="survey and complaint figures for [from, to), aggregates only")
    async def satisfaction(
        self,
        info: Ctx,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> SatisfactionReport:
        report = await satisfaction_report(info.context, from_, to)
        return SatisfactionReport(
            from_=report.start,
            to=report.end,
            months=[SatisfactionMonth(**vars(m)) for m in report.months],
            complaints_by_channel=[ComplaintShare(**vars(s)) for s in report.by_channel],
            complaints_by_branch=[ComplaintShare(**vars(s)) for s in report.by_branch],
            products=[
                ProductSatisfaction(
                    product=p.code,
                    complaints=p.complaints,
                    complaint_share=p.complaint_share,
                    mentions=p.mentions,
                    positive_share=p.positive_share,
                    negative_share=p.negative_share,
                    average_sentiment=p.average_sentiment,
                )
                for p in report.by_product
            ],
        )


__all__ = ["SatisfactionQuery", "SatisfactionReport"]
