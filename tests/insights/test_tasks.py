"""Care tasks and campaign arithmetic as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from insights.campaigns import CONTROL, TREATMENT, outcome, split_control
from insights.catalogue import default_catalogue
from insights.tasks import (
    ESCAPED,
    TaskKind,
    care_tasks,
    completed_task_ids,
    current_task_id,
    next_maturity,
    parse_task_id,
    task_id,
)

NOW = datetime(2026, 11, 29, 10, tzinfo=UTC)
START, END = date(2026, 11, 29), date(2026, 12, 13)


def history(**extra: Any) -> dict[str, Any]:
    return {
        "customer": {"id": "C1", "birthDate": "1980-12-05"},
        "accounts": [
            {
                "id": "A1",
                "type": "SAVINGS",
                "product": "SAV-BASIC",
                "balance": 100_000.0,
                "status": "ACTIVE",
                "openedAt": "2015-01-01T00:00:00Z",
            },
            {
                "id": "A2",
                "type": "SAVINGS",
                "product": "SAV-TERM",
                "balance": 50_000.0,
                "status": "ACTIVE",
                "openedAt": "2023-12-10T00:00:00Z",
            },
        ],
        "transactions": [],
        "interactions": [],
        **extra,
    }


def test_birthday_maturity_complaint_drop_and_churn() -> None:
    h = history(
        interactions=[
            {"id": "I1", "kind": "COMPLAINT", "time": "2026-11-10T08:00:00Z", "resolved": False,
             "summary": "手机银行登录失败"},
            {"id": "I2", "kind": "COMPLAINT", "time": "2026-11-27T08:00:00Z", "resolved": False},
            {"id": "I3", "kind": "COMPLAINT", "time": "2026-10-01T08:00:00Z", "resolved": True},
        ],
        transactions=[
            {"accountId": "A1", "time": "2026-11-20T00:00:00Z", "amount": 80_000.0,
             "kind": "TRANSFER_OUT"},
        ],
    )  # fmt: skip
    tasks = care_tasks(h, (0.4, "rule score"), default_catalogue(), NOW, START, END)
    by_kind = {t.kind: t for t in tasks}
    assert by_kind[TaskKind.BIRTHDAY].due == date(2026, 12, 5)
    assert by_kind[TaskKind.BIRTHDAY].reason == "birthday on 12-05 (turns 46)"
    assert by_kind[TaskKind.MATURITY].due == date(2026, 12, 10)
    assert by_kind[TaskKind.MATURITY].reason == "整存整取定期 (A2) matures on 2026-12-10"
    drop = by_kind[TaskKind.BALANCE_DROP]
    assert drop.reason == "assets down 35% (¥80,000) in the last 30 days"
    complaints = [t for t in tasks if t.kind is TaskKind.COMPLAINT]
    # I1 is overdue now; I2 becomes overdue on 4 December; I3 is resolved.
    assert [(t.due, t.id.rsplit(":", 1)[1]) for t in complaints] == [
        (START, "I1"),
        (date(2026, 12, 4), "I2"),
    ]
    assert by_kind[TaskKind.CHURN_RISK].reason == "churn risk 40.0% (rule score)"
    assert [t.due for t in tasks] == sorted(t.due for t in tasks)
    # Named by the month, not the window (QA finding B).
    assert parse_task_id(drop.id) == (TaskKind.BALANCE_DROP, "C1", date(2026, 11, 1), "")
    done = care_tasks(h, None, default_catalogue(), NOW, START, END, frozenset({drop.id}))
    assert drop.id not in {t.id for t in done} and TaskKind.CHURN_RISK not in {t.kind for t in done}


def test_a_tasks_id_does_not_depend_on_the_window() -> None:
    """QA finding B: a completed COMPLAINT or CHURN_RISK task came back in a later window
    (its id carried the window's start, the completion the old id)."""
    h = history(
        interactions=[
            {"id": "I1", "kind": "COMPLAINT", "time": "2026-11-10T08:00:00Z", "resolved": False},
        ],
        transactions=[
            {"accountId": "A1", "time": "2026-11-20T00:00:00Z", "amount": 80_000.0,
             "kind": "TRANSFER_OUT"},
        ],
    )  # fmt: skip
    kinds = (TaskKind.COMPLAINT, TaskKind.CHURN_RISK, TaskKind.BALANCE_DROP)

    def ids(start: date, end: date, done: frozenset[str] = frozenset()) -> dict[TaskKind, str]:
        tasks = care_tasks(h, (0.7, "rule score"), default_catalogue(), NOW, start, end, done)
        return {t.kind: t.id for t in tasks if t.kind in kinds}

    windows = [(START, END), (date(2026, 12, 1), date(2026, 12, 14)), (NOW.date(), NOW.date())]
    seen = [ids(a, b) for a, b in windows]
    assert set(seen[0]) == set(kinds) and seen[0] == seen[1] == seen[2]
    done = frozenset(seen[0].values())
    assert all(ids(a, b, done) == {} for a, b in windows)
    # The complaint is named by the day it became overdue.
    assert parse_task_id(seen[0][TaskKind.COMPLAINT])[2] == date(2026, 11, 17)


def test_no_birthday_before_the_birth() -> None:
    """QA finding D: a window in year 1 listed a birthday "turns -1984"."""
    h = history(customer={"id": "C1", "birthDate": "1985-03-04"})
    tasks = care_tasks(h, None, default_catalogue(), NOW, date(1984, 1, 1), date(1985, 12, 31))
    assert [t.reason for t in tasks if t.kind is TaskKind.BIRTHDAY] == []
    later = care_tasks(h, None, default_catalogue(), NOW, date(1986, 1, 1), date(1986, 12, 31))
    assert [t.reason for t in later if t.kind is TaskKind.BIRTHDAY] == [
        "birthday on 03-04 (turns 1)"
    ]


def test_maturity_rolls_over_terms() -> None:
    assert next_maturity(date(2026, 1, 31), 1, date(2026, 2, 15)) == date(2026, 2, 28)
    assert next_maturity(date(2026, 1, 31), 1, date(2026, 3, 1)) == date(2026, 3, 31)
    assert next_maturity(date(2020, 6, 1), 12, date(2026, 5, 2)) == date(2026, 6, 1)


def test_control_split_is_seeded_and_sized() -> None:
    ids = [f"C{i:03d}" for i in range(100)]
    a, b = split_control(ids, 0.2, "K-1"), split_control(reversed(ids), 0.2, "K-1")
    assert a == b and sum(g == CONTROL for g in a.values()) == 20
    assert split_control(ids, 0.2, "K-2") != a


def day(n: int) -> datetime:
    return datetime(2026, 11, n, tzinfo=UTC)


def test_conversions_count_after_contact_and_within_the_window() -> None:
    groups = {"t1": TREATMENT, "t2": TREATMENT, "t3": TREATMENT, "c1": CONTROL, "c2": CONTROL}
    contacts = {"t1": day(2), "t2": day(2)}
    openings = {"t1": [day(5)], "t2": [day(1)], "t3": [day(5)], "c1": [day(3)],
                "c2": [datetime(2026, 12, 31, tzinfo=UTC)]}  # fmt: skip
    result = outcome(groups, contacts, openings, day(1), day(30))
    assert (result.contacted, result.converted, result.control_converted) == (2, 1, 1)
    assert result.conversion_rate == 0.5 and result.control_conversion_rate == 0.5
    assert result.lift == 0.0 and result.relative_lift == 1.0


def test_task_ids_round_trip_for_any_customer_or_account_id() -> None:
    """M5: a ":" in a customer id (CRM:1) made the id split wrongly; now escaped (and "%")."""
    day = date(2026, 12, 5)
    for cid, ref in (("C1", ""), ("CRM:1", ""), ("CRM:50%:x", "A:1%3A"), ("%3A", ":")):
        written = task_id(TaskKind.MATURITY, cid, day, ref)
        assert written.removeprefix(ESCAPED).count(":") == 3, written
        assert written.startswith(ESCAPED) == (cid != "C1"), written
        assert parse_task_id(written) == (TaskKind.MATURITY, cid, day, ref)
    # Ids of customers without ":" or "%" are written as before.
    assert task_id(TaskKind.COMPLAINT, "C000001", day, "I0000003") == (
        "COMPLAINT:C000001:2026-12-05:I0000003"
    )
    # An id written before the escape reads when one part alone is a date.
    assert parse_task_id("BIRTHDAY:CRM:1:2026-12-05:") == (TaskKind.BIRTHDAY, "CRM:1", day, "")
    for bad in (
        "BIRTHDAY:CRM:2026-12-05:2026-12-06:",
        "BIRTHDAY:C1:2026-12-05",
        "X:C1:2026-12-05:",
    ):
        with pytest.raises(ValueError):
            parse_task_id(bad)


def test_a_session_20_completion_with_an_escaped_ref_closes_its_maturity_task() -> None:
    """Review, session 21: session 20 escaped ":" in an account id without the "v2:" prefix;
    with a plain customer id the stored completion read literally as account "ACC%3A9", not
    ACC:9, and the completed MATURITY task was listed again."""
    term = {**history()["accounts"][1], "id": "ACC:9"}
    h = history(accounts=[term])
    (listed,) = [t for t in care_tasks(h, None, default_catalogue(), NOW, START, END)
                 if t.kind is TaskKind.MATURITY]  # fmt: skip
    assert listed.id == "v2:MATURITY:C1:2026-12-10:ACC%3A9"
    stored = "MATURITY:C1:2026-12-10:ACC%3A9"  # how session 20 wrote the completion
    done = completed_task_ids(stored, "C1")
    assert listed.id in done
    left = care_tasks(h, None, default_catalogue(), NOW, START, END, done)
    assert TaskKind.MATURITY not in {t.kind for t in left}
    # A literal "%3A" in an account id written before escaping still closes its own task.
    assert task_id(TaskKind.MATURITY, "C1", date(2026, 12, 10), "ACC%3A9") in done
    assert completed_task_ids(listed.id, "C1") == {listed.id}  # a current id: one reading


def test_old_ids_with_a_literal_escape_and_new_ids_are_told_apart() -> None:
    """Session 21: an id written before ids were escaped, of a customer whose id holds
    "%3A" literally (OLD%3A1), was read as escaped: customer "OLD:1", so its completion
    never matched and completeTask named another customer. New ids that escape carry the
    "v2:" prefix; an id without it is read as written."""
    day = date(2026, 12, 5)
    old = "BIRTHDAY:OLD%3A1:2026-12-05:"
    assert parse_task_id(old) == (TaskKind.BIRTHDAY, "OLD%3A1", day, "")
    assert parse_task_id("MATURITY:OLD%25x:2026-12-05:A%3A1") == (
        TaskKind.MATURITY, "OLD%25x", day, "A%3A1"
    )  # fmt: skip
    new = task_id(TaskKind.BIRTHDAY, "OLD%3A1", day)
    assert new == "v2:BIRTHDAY:OLD%253A1:2026-12-05:"
    assert current_task_id(old) == current_task_id(new) == new
    assert task_id(TaskKind.BIRTHDAY, "CRM:1", day) == "v2:BIRTHDAY:CRM%3A1:2026-12-05:"
    assert parse_task_id("v2:BIRTHDAY:CRM%3A1:2026-12-05:")[1] == "CRM:1"
    # Escaped without the prefix (session 20's ids): read as the customer it belongs to.
    interim = "MATURITY:CRM%3A1:2026-12-05:A%3A1"
    assert current_task_id(interim, "CRM:1") == task_id(TaskKind.MATURITY, "CRM:1", day, "A:1")
    assert current_task_id(interim, "CRM%3A1") == task_id(
        TaskKind.MATURITY, "CRM%3A1", day, "A%3A1"
    )
    with pytest.raises(ValueError):
        parse_task_id("v2:BIRTHDAY:CRM:1:2026-12-05:")  # a prefixed id is never split by dates
