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


def months(rows: Iterable[Mapping[str, Any]]) -> list[Month]:
    scores: dict[str, list[int]] = defaultdict(list)
    complaints: Counter[str] = Counter()
    unresolved: Counter[str] = Counter()
    for r in rows:
        month = str(r.get("time") or "")[:7]
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


def shares(keys: Iterable[str | None]) -> list[Share]:
    """Each key's share of the whole, largest first; keys under MIN_CELL pooled as OTHER."""
    counts = Counter(k or OTHER for k in keys)
    total = sum(counts.values())
    pooled: Counter[str] = Counter()
    for key, n in counts.items():
        pooled[key if n >= MIN_CELL else OTHER] += n
    return [
        Share(key, n, round(n / total, 4))
        for key, n in sorted(pooled.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


__all__ = ["MIN_CELL", "OTHER", "Month", "Share", "months", "shares"]
