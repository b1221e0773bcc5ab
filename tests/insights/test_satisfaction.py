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


def test_shares_pool_groups_under_five_and_keep_other_at_five_or_more() -> None:
    keys = ["APP"] * 7 + ["PHONE"] * 5 + ["BRANCH"] * 5 + ["EMAIL"] * 3 + [None] * 1
    # EMAIL (3) is pooled with the unknown one; OTHER at 4 would still be small, so the
    # smallest group left (PHONE, 5: of the two at 5, the later by name) joins it.
    assert [(s.key, s.count, s.share) for s in shares(("2026-01", k) for k in keys)] == [
        (OTHER, 9, 0.4286), ("APP", 7, 0.3333), ("BRANCH", 5, 0.2381)
    ]  # fmt: skip


def test_a_group_pooled_in_one_month_cannot_be_differenced_out_of_two() -> None:
    # The attack session 13 left open: BRANCH-7 has 3 complaints in January (pooled) and 4 in
    # February. Per window, January alone gave OTHER 3 and January-February BRANCH-7 7: 7 - 3
    # is February's 4. Per month, its counts are under five in both months, so it is pooled
    # in every window, and OTHER keeps five or more in each month it holds anything.
    jan = [("2026-01", "BRANCH-1")] * 9 + [("2026-01", "BRANCH-7")] * 3 + [("2026-01", None)] * 2
    feb = [("2026-02", "BRANCH-1")] * 8 + [("2026-02", "BRANCH-7")] * 4 + [("2026-02", None)] * 1
    january, both = shares(jan), shares(jan + feb)
    assert [(s.key, s.count) for s in january] == [("BRANCH-1", 9), (OTHER, 5)]
    assert [(s.key, s.count) for s in both] == [("BRANCH-1", 17), (OTHER, 10)]
    assert "BRANCH-7" not in {s.key for s in both}


def test_other_under_five_takes_the_next_smallest_group_of_its_month() -> None:
    # OTHER at 2 would be one small group's count whenever it is the month's only one.
    cells = [("2026-03", "APP")] * 9 + [("2026-03", "PHONE")] * 6 + [("2026-03", "FAX")] * 2
    assert [(s.key, s.count) for s in shares(cells)] == [("APP", 9), (OTHER, 8)]
    # A month whose complaints are all few is OTHER whole; empty input gives no shares.
    assert [(s.key, s.count) for s in shares([("2026-04", "APP")] * 3)] == [(OTHER, 3)]
    assert shares([]) == []
