"""Satisfaction figures as pure functions: CSAT month over month, pooled small groups."""

from __future__ import annotations

from insights.satisfaction import OTHER, months, shares


def test_csat_by_month_with_change_and_small_months_left_blank() -> None:
    rows = [{"time": "2026-01-05T00:00:00Z", "satisfaction": s} for s in (5, 4, 4, 2, 1)]
    rows += [{"time": "2026-02-05T00:00:00Z", "satisfaction": s} for s in (5, 5, 4, 4, 3, 1)]
    rows += [{"time": "2026-03-05T00:00:00Z", "satisfaction": 5}]
    rows += [{"time": "2026-02-07T00:00:00Z", "kind": "COMPLAINT", "resolved": r}
             for r in (True, False, False, True, True)]  # fmt: skip
    jan, feb, mar = months(rows)
    assert (jan.month, jan.responses, jan.csat, jan.change) == ("2026-01", 5, 0.6, None)
    assert (feb.csat, feb.change) == (0.6667, 0.0667)
    assert (feb.complaints, feb.unresolved_share) == (5, 0.4)
    assert (mar.csat, mar.change, mar.unresolved_share) == (None, None, None)  # too few


def test_shares_pool_groups_under_five() -> None:
    keys = ["APP"] * 6 + ["PHONE"] * 5 + ["EMAIL"] * 2 + [None] * 1
    assert [(s.key, s.count, s.share) for s in shares(keys)] == [
        ("APP", 6, 0.4286), ("PHONE", 5, 0.3571), (OTHER, 3, 0.2143)
    ]  # fmt: skip
