"""Churn features, labels and explanations as pure functions (no graph)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from insights import churn
from insights.history import iso

AT = datetime(2026, 6, 1, tzinfo=UTC)


def history(closed: datetime | None = None, **extra: Any) -> dict[str, Any]:
    account: dict[str, Any] = {
        "id": "A1",
        "type": "SAVINGS",
        "product": "SAV-BASIC",
        "balance": 50_000,
        "status": "ACTIVE",
        "openedAt": "2020-01-01T00:00:00Z",
        "closedAt": None,
    }
    if closed:
        account |= {"balance": 0.0, "status": "CLOSED", "closedAt": iso(closed)}
    accounts = [account]
    return {
        "customer": {"id": "C1", "createdAt": "2020-01-01T00:00:00Z", "birthDate": "1990-05-05"},
        "accounts": accounts,
        "transactions": [],
        "interactions": [],
        "householdId": None,
        "related": 0,
        **extra,
    }


def tx(days_before: int, amount: float, kind: str = "PAYMENT") -> dict[str, Any]:
    return {
        "accountId": "A1",
        "time": iso(AT - timedelta(days=days_before)),
        "amount": amount,
        "kind": kind,
    }


def test_features_never_look_past_the_moment() -> None:
    before = history(transactions=[tx(10, 100), tx(120, 100)])
    after = history(transactions=[tx(10, 100), tx(120, 100), tx(-5, 9_999, "TRANSFER_OUT")])
    a, b = churn.features(before, AT), churn.features(after, AT)
    for name in ("tx_last_90d", "tx_trend", "days_since_tx", "complaints_180d"):
        assert a[name] == b[name]
    assert a["tx_last_90d"] == 1 and a["days_since_tx"] == 10
    assert a["tx_trend"] == 0.0  # one in each quarter


def test_label_is_churn_within_the_horizon_after_the_moment() -> None:
    soon = history(closed=AT + timedelta(days=30))
    later = history(closed=AT + timedelta(days=churn.HORIZON_DAYS + 30))
    gone = history(closed=AT - timedelta(days=1))
    assert churn.label(soon, AT) == 1
    assert churn.label(later, AT) == 0
    assert churn.in_population(soon, AT) and not churn.in_population(gone, AT)
    assert churn.label(history(), AT) == 0


def test_unresolved_complaints_and_poor_scores_are_counted() -> None:
    ixs = [
        {"kind": "COMPLAINT", "time": iso(AT - timedelta(days=40)), "resolved": False,
         "satisfaction": 1},
        {"kind": "SURVEY", "time": iso(AT - timedelta(days=20)), "satisfaction": 2},
        {"kind": "SURVEY", "time": iso(AT + timedelta(days=2)), "satisfaction": 5},
    ]  # fmt: skip
    x = churn.features(history(interactions=ixs), AT)
    assert x["complaints_180d"] == 1 and x["unresolved_complaints"] == 1
    assert x["satisfaction"] == 1.5 and x["low_satisfaction"] == 2


def _sample(label: int, unresolved: float, tx_count: float) -> churn.Sample:
    x = churn.features(history(), AT)
    return churn.Sample("c", {**x, "unresolved_complaints": unresolved,
                              "tx_log": math.log1p(tx_count)}, label, 0.0)  # fmt: skip


def test_fit_explains_with_the_features_that_raise_the_score() -> None:
    rows = [_sample(1, 2, 1) for _ in range(20)] + [_sample(0, 0, 30) for _ in range(80)]
    model = churn.fit(rows, AT, AT)
    risky = churn.explain(model, rows[0].features)
    calm = churn.explain(model, rows[-1].features)
    assert risky.score > 0.8 > 0.2 > calm.score
    texts = dict(risky.reasons)
    assert texts["unresolved_complaints"] == "2 unresolved complaint(s)"
    assert texts["tx_log"] == "only 1 transactions in the last 90 days"
    assert calm.reasons == ()  # below the base rate nothing stands out
    again = churn.ChurnModel.from_json(model.to_json())
    assert again.score(rows[0].features) == pytest.approx(model.score(rows[0].features))


def test_fit_refuses_a_window_without_churners() -> None:
    with pytest.raises(ValueError, match="no churner"):
        churn.fit([_sample(0, 0, 3) for _ in range(5)], AT, AT)


def test_rank_quality() -> None:
    labels = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    scores = [0.9, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2, 0.25]
    result = churn.rank_quality(labels, scores)
    assert result.top_decile_precision == 1.0
    assert result.auc == pytest.approx(14 / 16)


def test_a_date_alone_is_its_midnight_utc() -> None:
    """H1: the importer keeps a date-only createdAt, openedAt or interaction time as given;
    read naive, it was compared with aware moments (TypeError)."""
    day = (AT - timedelta(days=3)).date().isoformat()
    dated = history(
        interactions=[{"kind": "INQUIRY", "time": day}],
        transactions=[{**tx(10, 100), "time": (AT - timedelta(days=10)).date().isoformat()}],
    )
    dated["customer"]["createdAt"] = "2020-01-01"
    dated["accounts"][0]["openedAt"] = "2020-01-01"
    midnight = history(
        interactions=[{"kind": "INQUIRY", "time": f"{day}T00:00:00Z"}],
        transactions=[{**tx(10, 100), "time": iso(AT - timedelta(days=10))}],
    )
    assert churn.in_population(dated, AT)
    assert churn.features(dated, AT) == churn.features(midnight, AT)
    stored = churn.with_stored_times(dated)
    assert stored["customer"]["createdAt"] == "2020-01-01T00:00:00Z"
    assert stored["accounts"][0]["openedAt"] == "2020-01-01T00:00:00Z"
    assert stored["interactions"][0]["time"] == f"{day}T00:00:00Z"
    assert churn.features(stored, AT) == churn.features(midnight, AT)
    assert churn.features(stored, AT)["idle_days"] == 3


def test_an_unreadable_history_names_the_customer() -> None:
    broken = history(transactions=[{"accountId": "A1", "amount": 5, "kind": "PAYMENT"}])
    with pytest.raises(churn.UnreadableHistory, match="customer C1's history cannot be read"):
        churn.samples([broken], AT, lambda h, at: 0.0)


def test_bank_initiated_interactions_do_not_break_the_silence() -> None:
    """QA (session 24): a campaign's SMS (MARKETING) or a care call logged by completeTask
    (CARE) made a customer idle for 200 days look active the day before: idle_days fell to
    1. Only the customer's own interactions count; the rule score reads them alike."""
    from resolvers.nba import rule_score

    def ix(kind: str, channel: str) -> dict[str, Any]:
        return {"kind": kind, "channel": channel, "time": iso(AT - timedelta(days=1))}

    silent = history(transactions=[tx(200, 100)])
    contacted = history(transactions=[tx(200, 100)],
                        interactions=[ix("MARKETING", "SMS"), ix("CARE", "PHONE")])  # fmt: skip
    assert churn.features(contacted, AT)["idle_days"] == 200.0
    assert churn.features(contacted, AT) == churn.features(silent, AT)
    assert rule_score(contacted, AT) == rule_score(silent, AT) > 0
    # The customer's own call still counts as activity.
    called = history(transactions=[tx(200, 100)], interactions=[ix("INQUIRY", "PHONE")])
    assert churn.features(called, AT)["idle_days"] == 1.0
    assert rule_score(called, AT) < rule_score(silent, AT)
