"""The alert rules, pure: seasonal baseline, minimum history, negative share, terms."""

from __future__ import annotations

from datetime import date, timedelta

from sentiment.alerts import NEGATIVE_SHARE, VOLUME, AlertConfig, evaluate, top_terms
from sentiment.trends import Bucket

WEEK = (60, 40, 40, 40, 40, 20, 20)  # Mondays busy, weekends quiet


def days(counts: list[int], negative: float = 0.1) -> list[Bucket]:
    start = date(2025, 1, 6)
    return [
        Bucket(f"{start + timedelta(days=k)}T00:00:00Z", c, negative=round(c * negative))
        for k, c in enumerate(counts)
    ]


def test_routine_weekday_peaks_do_not_alert_but_a_spike_does() -> None:
    counts = [WEEK[k % 7] for k in range(42)]
    assert evaluate(days(counts), 0, AlertConfig()).findings == []
    counts[36] = 90  # a Tuesday at 90 where 40 is usual
    (found,) = evaluate(days(counts), 0, AlertConfig()).findings
    assert found.bucket.start == "2025-02-11T00:00:00Z"
    assert found.kinds == (VOLUME,) and round(found.expected) == 40


def test_no_alert_without_history_and_empty_days_before_the_first_post_are_no_history() -> None:
    counts = [0] * 20 + [WEEK[k % 7] for k in range(10)] + [500]
    result = evaluate(days(counts), 0, AlertConfig())
    assert result.findings == [] and result.judged == 0
    assert len(result.insufficient) == 31


def test_negative_share_spike_at_usual_volume() -> None:
    buckets = days([WEEK[k % 7] for k in range(28)])
    buckets.append(Bucket("2025-02-03T00:00:00Z", 60, negative=40))
    (found,) = evaluate(buckets, 28, AlertConfig()).findings
    assert found.kinds == (NEGATIVE_SHARE,)
    assert found.share is not None and found.share > 0.6


def test_top_terms_set_the_spike_apart_from_the_baseline() -> None:
    base = [f"招商银行的客服态度不错，整体满意{k}" for k in range(40)]
    spike = [f"招商银行APP登录不上，转账失败{k}" for k in range(20)] + base[:5]
    terms = [t.term for t in top_terms(spike, base, 5)]
    assert "登录不上" in terms and "转账失败" in terms
    assert not any("客服" in t or "招商" in t for t in terms)
