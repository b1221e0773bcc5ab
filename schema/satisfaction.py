"""``satisfaction(from, to)``: CSAT month over month, complaint shares by product, channel
and branch, and the social sentiment for the same products beside them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers.satisfaction import satisfaction_report
from schema.types import Ctx


@strawberry.type(description="Satisfaction and complaints of one calendar month (UTC).")
class SatisfactionMonth:
    month: str = strawberry.field(description="YYYY-MM")
    responses: int = strawberry.field(description="satisfaction scores given")
    csat: float | None = strawberry.field(
        description="share of scores 4-5 out of 5; null under 5 responses"
    )
    change: float | None = strawberry.field(description="csat minus the previous month's")
    complaints: int = strawberry.field(description="interactions of kind COMPLAINT")
    unresolved_share: float | None = strawberry.field(
        description="share of the complaints marked unresolved; null under 5 complaints"
    )


@strawberry.type(description="One channel's or branch's part of the window's complaints.")
class ComplaintShare:
    key: str = strawberry.field(description="channel or branch id; OTHER pools groups under 5")
    count: int = strawberry.field(description="complaints")
    share: float = strawberry.field(description="of all complaints in the window, 0..1")


@strawberry.type(
    description="One product's complaints beside the social sentiment about it in the window."
)
class ProductSatisfaction:
    product: str = strawberry.field(description="product code; OTHER pools groups under 5")
    complaints: int = strawberry.field(description="complaints about the product")
    complaint_share: float = strawberry.field(description="of all complaints in the window, 0..1")
    mentions: int = strawberry.field(description="social posts mentioning the product")
    positive_share: float | None = strawberry.field(
        description="POSITIVE of the mentions; null under 5 mentions"
    )
    negative_share: float | None = strawberry.field(
        description="NEGATIVE of the mentions; null under 5 mentions"
    )
    average_sentiment: float | None = strawberry.field(description="0 (negative) .. 1")


@strawberry.type(
    description="Customer satisfaction over a window: CSAT by month, complaint shares by "
    "channel, branch and product, and the products' social sentiment. Groups under 5 are "
    "pooled or left without a figure."
)
class SatisfactionReport:
    from_: datetime = strawberry.field(
        name="from",
        description="start of the window the figures cover: the asked one widened to whole "
        "calendar months (UTC), so windows inside a month cannot be differenced",
    )
    to: datetime = strawberry.field(description="end (exclusive) of the window covered")
    months: list[SatisfactionMonth] = strawberry.field(description="month by month, in order")
    complaints_by_channel: list[ComplaintShare] = strawberry.field(
        description="complaints by channel, largest first"
    )
    complaints_by_branch: list[ComplaintShare] = strawberry.field(
        description="complaints by branch, largest first"
    )
    products: list[ProductSatisfaction] = strawberry.field(
        description="complaints by product, largest first"
    )


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
