from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from resolvers.social import fill_window
from sentiment.trends import Bucket, from_rows, spikes, week_of, z_score


def row(bucket: str, count: int, neg: int = 0, score_sum: float = 0.0, scored: int = 0) -> dict:
    return {
        "bucket": bucket,
        "count": count,
        "positive": count - neg,
        "neutral": 0,
        "negative": neg,
        "scoreSum": score_sum,
        "scored": scored,
    }


def test_day_and_hour_buckets() -> None:
    hours = from_rows([row("2025-03-01T08", 2, 1, 1.0, 2)], "HOUR")
    assert hours[0].start == "2025-03-01T08:00:00Z"
    assert hours[0].avg_score == pytest.approx(0.5)
    days = from_rows([row("2025-03-02", 1), row("2025-03-01", 3)], "DAY")
    assert [b.start for b in days] == ["2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"]
    assert days[0].avg_score is None


def test_weeks_sum_days_from_monday() -> None:
    assert week_of("2025-03-02") == "2025-02-24"  # a Sunday belongs to the week before
    weeks = from_rows(
        [row("2025-03-03", 1, 1, 0.2, 1), row("2025-03-09", 2, 0, 1.6, 2), row("2025-03-10", 4)],
        "WEEK",
    )
    assert [(b.start, b.count, b.negative) for b in weeks] == [
        ("2025-03-03T00:00:00Z", 3, 1),
        ("2025-03-10T00:00:00Z", 4, 0),
    ]
    assert weeks[0].avg_score == pytest.approx(0.6)


def test_fill_window_counts_quiet_buckets_as_zero() -> None:
    filled = fill_window(
        [Bucket("2025-03-01T00:00:00Z", 1), Bucket("2025-03-03T00:00:00Z", 2)],
        datetime(2025, 2, 28, tzinfo=UTC),
        datetime(2025, 3, 4, tzinfo=UTC),
        "DAY",
    )
    assert [(b.start, b.count) for b in filled] == [
        ("2025-02-28T00:00:00Z", 0),
        ("2025-03-01T00:00:00Z", 1),
        ("2025-03-02T00:00:00Z", 0),
        ("2025-03-03T00:00:00Z", 2),
    ]


def test_z_score() -> None:
    assert z_score(5, [1]) is None
    assert z_score(3, [1, 3]) == pytest.approx(1.0)
    assert math.isinf(z_score(2, [1, 1, 1]))
    assert z_score(1, [1, 1]) == 0.0


def test_spike_over_trailing_window() -> None:
    negs = [1, 2, 1, 2, 1, 9, 2]
    buckets = [Bucket(f"2025-03-0{i + 1}T00:00:00Z", n, negative=n) for i, n in enumerate(negs)]
    found = spikes(buckets, window=4, threshold=2.0)
    assert [s.bucket.start for s in found] == ["2025-03-06T00:00:00Z"]
    assert found[0].baseline_mean == pytest.approx(1.5)
    assert spikes(buckets, window=4, threshold=20.0) == []


def test_unsupported_and_emotion_counts_sum_into_weeks() -> None:
    rows = [
        row("2025-03-03", 3, 1) | {"unsupported": 1, "emotions": [1, 1, 0, 0, 0, 0]},
        row("2025-03-04", 2) | {"unsupported": 0, "emotions": [1, 0, 0, 0, 1, 0]},
    ]
    (week,) = from_rows(rows, "WEEK")
    assert week.unsupported == 1
    assert week.emotion_counts() == {
        "happy": 2,
        "angry": 1,
        "sad": 0,
        "fear": 0,
        "surprise": 1,
        "neutral": 0,
    }
    old = from_rows([row("2025-03-03", 1)], "DAY")[0]  # rows from before emotions existed
    assert old.unsupported == 0 and sum(old.emotions) == 0
