"""The 360 summary figures as pure functions, with a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from resolvers.analytics import (
    Activity,
    LifecycleStage,
    Segment,
    age_band,
    churn_risk,
    days_to_next_birthday,
    held_assets,
    iso,
    lifecycle_stage,
    segment,
    segment_bounds,
    total_assets,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def ago(days: int) -> str:
    return iso(NOW - timedelta(days=days))


def test_total_assets_leaves_out_liabilities() -> None:
    accounts = [
        {"type": "SAVINGS", "balance": 100.0},
        {"type": "WEALTH", "balance": 50.5},
        {"type": "LOAN", "balance": 9999.0},
        {"type": "CREDIT_CARD", "balance": None},
    ]
    assert total_assets(accounts) == 150.5
    assert total_assets([]) == 0.0
    # An asset account whose balance is unknown makes the total unknown, not smaller.
    assert total_assets([*accounts, {"type": "CHECKING", "balance": None}]) is None
    # Balances in several currencies have no sum without exchange rates (QA: 100 CNY + 1M USD
    # read as 1,000,100 and HIGH); one currency, or none given, sums.
    priced = [{"type": "SAVINGS", "balance": 100.0, "currency": "CNY"},
              {"type": "SAVINGS", "balance": 1e6, "currency": "usd"}]  # fmt: skip
    assert total_assets(priced) is None
    assert total_assets([priced[0], {"type": "WEALTH", "balance": 5.0}]) == 105.0
    assert total_assets([priced[0], {"type": "LOAN", "balance": -9.0, "currency": "USD"}]) == 100
    # Session 12 finding: accounts all in another currency were compared with the thresholds
    # (in the book's currency) unconverted; without rates their total is unknown too.
    assert total_assets([priced[1]]) is None
    # Ratios (churn's outflow against what was held) need no rates: the sum in its own currency.
    assert held_assets([priced[1]]) == 1e6 and held_assets(priced) is None
    assert total_assets([{"type": "SAVINGS", "balance": 5.0, "currency": "cny"}]) == 5.0
    # No currency (or an empty one) is the book's: beside USD that is two currencies.
    assert total_assets([priced[1], {"type": "WEALTH", "balance": 5.0, "currency": ""}]) is None
    assert segment(None, 1_000_000, 100_000) is None


def test_segment_thresholds_and_bounds() -> None:
    assert segment(1_000_000, 1_000_000, 100_000) is Segment.HIGH
    assert segment(999_999.99, 1_000_000, 100_000) is Segment.MIDDLE
    assert segment(100_000, 1_000_000, 100_000) is Segment.MIDDLE
    assert segment(0, 1_000_000, 100_000) is Segment.MASS
    for wanted in Segment:
        low, high = segment_bounds(wanted, 1_000_000, 100_000)
        probe = low if low is not None else 0.0
        assert segment(probe, 1_000_000, 100_000) is wanted
        if high is not None:
            assert segment(high, 1_000_000, 100_000) is not wanted


def test_age_band_and_birthday() -> None:
    today = NOW.date()
    assert age_band(date(1990, 3, 2), today) == "25-34"  # 34 until tomorrow
    assert age_band(date(1990, 3, 1), today) == "35-44"
    assert age_band(date(2010, 1, 1), today) == "<18"
    assert age_band(date(1950, 1, 1), today) == "65+"
    assert age_band(None, today) is None
    assert days_to_next_birthday(date(1990, 3, 1), today) == 0
    assert days_to_next_birthday(date(1990, 3, 2), today) == 1
    assert days_to_next_birthday(date(1990, 2, 28), today) == 364
    # 29 February in a common year falls on the 28th.
    assert days_to_next_birthday(date(2000, 2, 29), date(2025, 2, 1)) == 27


def test_lifecycle_stages() -> None:
    recent = Activity(last_transaction_at=ago(3))
    old_customer = NOW - timedelta(days=3000)
    assert lifecycle_stage(NOW - timedelta(days=10), Activity(), [], NOW) is LifecycleStage.NEW
    assert lifecycle_stage(old_customer, recent, ["ACTIVE"], NOW) is LifecycleStage.LOYAL
    assert (
        lifecycle_stage(NOW - timedelta(days=400), recent, ["ACTIVE"], NOW) is LifecycleStage.ACTIVE
    )
    dormant = Activity(last_interaction_at=ago(200))
    assert lifecycle_stage(old_customer, dormant, ["ACTIVE"], NOW) is LifecycleStage.DORMANT
    gone = Activity(last_transaction_at=ago(400))
    assert lifecycle_stage(old_customer, gone, ["ACTIVE"], NOW) is LifecycleStage.CHURNED
    assert (
        lifecycle_stage(old_customer, recent, ["CLOSED", "closed"], NOW) is LifecycleStage.CHURNED
    )
    assert lifecycle_stage(old_customer, Activity(), [], NOW) is LifecycleStage.CHURNED


def test_churn_risk_reasons_and_bounds() -> None:
    calm = churn_risk(100_000, Activity(last_transaction_at=ago(1), net_flow=5_000), NOW)
    assert calm.score == 0 and calm.reasons == []
    leaving = churn_risk(
        10_000,
        Activity(last_transaction_at=ago(100), net_flow=-90_000, complaints=3),
        NOW,
    )
    assert 0.9 <= leaving.score <= 1.0
    assert len(leaving.reasons) == 3
    assert "90%" in leaving.reasons[0]
    assert "3 complaint" in leaving.reasons[1]
    assert "100 days" in leaving.reasons[2]
    assert churn_risk(0, Activity(), NOW).reasons == ["no recorded activity"]
