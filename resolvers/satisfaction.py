"""``satisfaction``: CSAT and complaint shares from the graph, social sentiment beside them.
Decided on resource type SatisfactionReport (aggregates only; no customer is returned)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from graph.repositories import satisfaction as repo
from insights.satisfaction import MIN_CELL, OTHER, Month, Share, month_of, months, shares
from privacy.types import Resource
from resolvers.analytics import iso
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.privacy import READ

REPORT = Resource("SatisfactionReport", "all", {})
MAX_DAYS = 731


@dataclass(frozen=True)
class ProductFigures:
    code: str
    complaints: int
    complaint_share: float
    mentions: int
    positive_share: float | None
    negative_share: float | None
    average_sentiment: float | None


@dataclass(frozen=True)
class Report:
    start: datetime  # the window the figures cover: the asked one widened to whole months
    end: datetime
    months: list[Month]
    by_channel: list[Share]
    by_branch: list[Share]
    by_product: list[ProductFigures]


def whole_months(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[start, end) widened to whole calendar months (UTC, the months the figures are by).

    Small-cell suppression holds per answer, not across answers: two windows that differ by
    half a day let a caller subtract one response (6 -> 7 responses, CSAT 0.3333 -> 0.4286:
    the added one scored 4-5). Snapped to whole months, every answer is made of whole
    monthly cells, each of them suppressed below MIN_CELL, so windows inside one month give
    the same figures and there is nothing smaller to difference."""
    first = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = end.astimezone(UTC)
    month = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if month != last:  # `to` inside a month: the month is taken whole
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return first, month


async def satisfaction_report(context: RequestContext, start: datetime, end: datetime) -> Report:
    if end <= start:
        raise BadUserInput("to must be after from", field="to")
    if (end - start).days > MAX_DAYS:
        raise BadUserInput(f"the window is at most {MAX_DAYS} days", field="to")
    await context.privacy.require_resource(REPORT, READ)
    start, end = whole_months(start, end)
    rows = await repo.feedback(context.store, iso(start), iso(end))
    complaints = [r for r in rows if str(r.get("kind") or "").upper() == "COMPLAINT"]
    by_product = shares((month_of(r), (r.get("products") or [None])[0]) for r in complaints)
    social = {
        r["product"]: r for r in await repo.product_sentiment(context.store, iso(start), iso(end))
    }
    products = []
    for s in by_product:
        post = social.get(s.key) or {}
        mentions = int(post.get("mentions") or 0)
        enough = mentions >= MIN_CELL
        products.append(
            ProductFigures(
                code=s.key,
                complaints=s.count,
                complaint_share=s.share,
                mentions=mentions,
                positive_share=round(post["positive"] / mentions, 4) if enough else None,
                negative_share=round(post["negative"] / mentions, 4) if enough else None,
                average_sentiment=round(float(post["score"]), 4)
                if enough and post.get("score") is not None
                else None,
            )
        )
    return Report(
        start=start,
        end=end,
        months=months(rows),
        by_channel=shares((month_of(r), r.get("channel")) for r in complaints),
        by_branch=shares((month_of(r), (r.get("branches") or [None])[0]) for r in complaints),
        by_product=products,
    )


__all__ = ["OTHER", "ProductFigures", "Report", "satisfaction_report", "whole_months"]
