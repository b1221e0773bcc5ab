"""Sentiment over time, pure: bucket rows from the graph into HOUR/DAY/WEEK, flag spikes.

The graph groups by a prefix of the ISO ``createdAt`` (hour: 13 characters, day: 10). With a
time zone the graph groups by UTC hour (by minute for zones off by a fraction of an hour) and
the hours are summed here into the zone's hours, days and weeks (ISO, starting Monday); a
bucket's ``start`` is the UTC instant its local period begins.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sentiment.labels import judged_score

EMOTIONS = ("happy", "angry", "sad", "fear", "surprise", "neutral")
INTERVALS = ("HOUR", "DAY", "WEEK")
GRAPH_WIDTH = {"HOUR": 13, "DAY": 10, "WEEK": 10}


@dataclass(frozen=True)
class Bucket:
    start: str  # ISO-8601 UTC
    count: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    unsupported: int = 0
    score_sum: float = 0.0
    scored: int = 0
    emotions: tuple[int, ...] = (0,) * len(EMOTIONS)  # counts in EMOTIONS order

    def emotion_counts(self) -> dict[str, int]:
        return dict(zip(EMOTIONS, self.emotions, strict=True))

    @property
    def avg_score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None


def bucket_start(prefix: str) -> str:
    """'2025-03-01T08' -> '2025-03-01T08:00:00Z'; '2025-03-01' -> '2025-03-01T00:00:00Z'."""
    if len(prefix) == 13:
        return f"{prefix}:00:00Z"
    return f"{prefix[:10]}T00:00:00Z"


def week_of(day: str) -> str:
    """The Monday starting the ISO week of 'YYYY-MM-DD...'."""
    d = date.fromisoformat(day[:10])
    return (d - timedelta(days=d.weekday())).isoformat()


ISO = "%Y-%m-%dT%H:%M:%SZ"


def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name`` (None: UTC); ValueError for an unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        hint = "use an IANA name like Asia/Shanghai"
        raise ValueError(f"unknown time zone {name!r}; {hint}") from exc


def graph_width(tz: tzinfo) -> int:
    """Prefix of createdAt the graph groups by for ``tz``: the UTC hour (13), or the minute
    (16) for a zone whose offset is not whole hours (India, Nepal, parts of Australia)."""
    probes = (datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 7, 15, tzinfo=UTC))
    whole = all((p.astimezone(tz).utcoffset() or timedelta()) % timedelta(hours=1) == timedelta()
                for p in probes)  # fmt: skip
    return 13 if whole else 16


def parse_prefix(prefix: str) -> datetime:
    """'2025-03-01T08' / '2025-03-01T08:30' / '2025-03-01' (UTC) -> an aware datetime."""
    if len(prefix) == 10:
        return datetime.fromisoformat(prefix).replace(tzinfo=UTC)
    return datetime.fromisoformat(prefix + (":00" if len(prefix) == 13 else "")).replace(tzinfo=UTC)


def local_floor(moment: datetime, interval: str, tz: tzinfo = UTC) -> datetime:
    """The start (aware, in ``tz``) of the HOUR / DAY / WEEK bucket of ``tz`` holding
    ``moment`` (naive = UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    if interval == "HOUR":
        return local
    day = datetime(local.year, local.month, local.day, tzinfo=tz)
    return day - timedelta(days=day.weekday()) if interval == "WEEK" else day


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(ISO)


def next_start(local: datetime, interval: str) -> datetime:
    """The start of the bucket after the one starting at ``local`` (aware, in its zone): days
    and weeks step on the wall clock (a DST day is 23 or 25 hours), hours in real time."""
    if interval == "HOUR":
        return (local.astimezone(UTC) + timedelta(hours=1)).astimezone(local.tzinfo)
    return local + step(interval)


def from_rows(
    rows: Iterable[dict[str, Any]], interval: str, tz: tzinfo | None = None
) -> list[Bucket]:
    """Graph rows {bucket, count, positive, neutral, negative, unsupported?, scoreSum, scored,
    emotions?: [counts in EMOTIONS order]} -> buckets in time order (weeks summed from days).

    Without ``tz`` the row prefixes are the buckets (UTC); with it they are UTC hours or
    minutes summed into the zone's buckets."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}")
    merged: dict[str, Bucket] = {}
    for row in rows:
        prefix = str(row["bucket"])
        if tz is not None:
            key = iso_utc(local_floor(parse_prefix(prefix), interval, tz))
        else:
            key = bucket_start(week_of(prefix) if interval == "WEEK" else prefix)
        b = merged.get(key, Bucket(key))
        merged[key] = replace(
            b,
            count=b.count + int(row["count"]),
            positive=b.positive + int(row["positive"]),
            neutral=b.neutral + int(row["neutral"]),
            negative=b.negative + int(row["negative"]),
            unsupported=b.unsupported + int(row.get("unsupported") or 0),
            emotions=tuple(
                a + int(x)
                for a, x in zip(
                    b.emotions, row.get("emotions") or (0,) * len(EMOTIONS), strict=True
                )
            ),
            score_sum=b.score_sum + float(row["scoreSum"] or 0.0),
            scored=b.scored + int(row["scored"]),
        )
    return [merged[k] for k in sorted(merged)]


def rows_from_posts(posts: Iterable[dict[str, Any]], width: int) -> list[dict[str, Any]]:
    """The graph's trend rows computed from post rows (a query the graph cannot decide)."""
    rows: dict[str, dict[str, Any]] = {}
    for p in posts:
        key = str(p.get("createdAt") or "")[:width]
        r = rows.setdefault(
            key,
            {"bucket": key, "count": 0, "positive": 0, "neutral": 0, "negative": 0,
             "unsupported": 0, "scoreSum": 0.0, "scored": 0, "emotions": [0] * len(EMOTIONS)},
        )  # fmt: skip
        r["count"] += 1
        label = str(p.get("sentimentLabel") or "").lower()
        if label in ("positive", "neutral", "negative", "unsupported"):
            r[label] += 1
        score = judged_score(p.get("sentimentLabel"), p.get("sentimentScore"))
        if score is not None:
            r["scoreSum"] += float(score)
            r["scored"] += 1
        if p.get("sentimentEmotion") in EMOTIONS:
            r["emotions"][EMOTIONS.index(p["sentimentEmotion"])] += 1
    return [rows[k] for k in sorted(rows)]


def step(interval: str) -> timedelta:
    return {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1), "WEEK": timedelta(weeks=1)}[
        interval
    ]


@dataclass(frozen=True)
class Spike:
    bucket: Bucket
    z: float
    baseline_mean: float
    baseline_std: float


def z_score(value: float, history: Sequence[float]) -> float | None:
    """How many (population) standard deviations ``value`` is above the mean of ``history``;
    None with fewer than two points. A flat history counts a rise as infinitely unusual."""
    if len(history) < 2:
        return None
    mean = statistics.fmean(history)
    std = statistics.pstdev(history)
    if std == 0:
        return float("inf") if value > mean else 0.0
    return (value - mean) / std


def spikes(buckets: Sequence[Bucket], window: int, threshold: float) -> list[Spike]:
    """Buckets whose negative volume is ``threshold`` z or more above the trailing ``window``
    buckets before them (pass gap-filled buckets so quiet periods count)."""
    found = []
    for i, bucket in enumerate(buckets):
        history = [b.negative for b in buckets[max(0, i - window) : i]]
        z = z_score(bucket.negative, history)
        if z is not None and z >= threshold and bucket.negative > 0:
            mean = statistics.fmean(history)
            found.append(Spike(bucket, z, mean, statistics.pstdev(history)))
    return found


__all__ = [
    "EMOTIONS",
    "GRAPH_WIDTH",
    "INTERVALS",
    "Bucket",
    "Spike",
    "bucket_start",
    "from_rows",
    "graph_width",
    "iso_utc",
    "local_floor",
    "next_start",
    "parse_prefix",
    "rows_from_posts",
    "spikes",
    "step",
    "week_of",
    "z_score",
    "zone",
]
