"""Satisfaction figures from interactions: CSAT by month (with the change on the month
before), and the share of complaints by product, channel and branch. Pure: rows in, figures
out. Groups smaller than MIN_CELL are pooled (``OTHER``) or left without a figure, so an
aggregate never singles a customer out."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_CELL = 5
SATISFIED = 4  # CSAT: the share of scores of 4 or 5 out of 5
OTHER = "OTHER"


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    responses: int
    csat: float | None
    change: float | None  # on the month before, when both have a figure
    complaints: int
    unresolved_share: float | None


@dataclass(frozen=True)
class Share:
    key: str
    count: int
    share: float


def month_of(row: Mapping[str, Any]) -> str:
    """The row's YYYY-MM (its ``time``'s), the cell every figure is counted by; "" if none."""
    return str(row.get("time") or "")[:7]


def months(rows: Iterable[Mapping[str, Any]]) -> list[Month]:
    scores: dict[str, list[int]] = defaultdict(list)
    complaints: Counter[str] = Counter()
    unresolved: Counter[str] = Counter()
    for r in rows:
        month = month_of(r)
        if not month:
            continue
        if r.get("satisfaction") is not None:
            scores[month].append(int(r["satisfaction"]))
        if str(r.get("kind") or "").upper() == "COMPLAINT":
            complaints[month] += 1
            unresolved[month] += r.get("resolved") is False
    out: list[Month] = []
    previous: float | None = None
    for month in sorted(set(scores) | set(complaints)):
        given = scores.get(month, [])
        csat = sum(s >= SATISFIED for s in given) / len(given) if len(given) >= MIN_CELL else None
        n = complaints[month]
        out.append(
            Month(
                month=month,
                responses=len(given),
                csat=None if csat is None else round(csat, 4),
                change=None if csat is None or previous is None else round(csat - previous, 4),
                complaints=n,
                unresolved_share=round(unresolved[month] / n, 4) if n >= MIN_CELL else None,
            )
        )
        previous = csat
    return out


def shares(cells: Iterable[tuple[str, str | None]]) -> list[Share]:
    """Each key's share of the whole, largest first, added up from (month, key) cells.

    Pooled per month, not per window: a key's count in a month under MIN_CELL joins that
    month's OTHER, and while OTHER holds fewer than MIN_CELL the month's next smallest cell
    joins it too (complementary suppression; a month with too few complaints in all is OTHER
    whole, its total is in ``months`` anyway). Every figure is so a sum of whole monthly cells
    of MIN_CELL or more, whatever the window: two windows a month apart, differenced, give
    that month's shown cells, never a group's small count (pooled per window, a group at 3 in
    a month alone and 7 over two months gave its other month's 4)."""
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    for month, key in cells:
        by_month[month][key or OTHER] += 1
    pooled: Counter[str] = Counter()
    for counts in by_month.values():
        other = counts.pop(OTHER, 0)
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # smallest last
        while shown and (shown[-1][1] < MIN_CELL or 0 < other < MIN_CELL):
            other += shown.pop()[1]
        pooled.update(dict(shown))
        pooled[OTHER] += other
    total = sum(pooled.values())
    return [
        Share(key, n, round(n / total, 4))
        for key, n in sorted(pooled.items(), key=lambda kv: (-kv[1], kv[0]))
        if n
    ]


__all__ = ["MIN_CELL", "OTHER", "Month", "Share", "month_of", "months", "shares"]
