"""Care tasks for an advisor's customers: pure functions from histories to dated tasks.

Kinds: BIRTHDAY (the 生日关怀 greeting), MATURITY (a term product reaches the end of a term,
catalogue ``termMonths``), BALANCE_DROP (net outflow over BALANCE_DROP_DAYS above a share of
assets), COMPLAINT (still unresolved COMPLAINT_OPEN_DAYS after it was made), CHURN_RISK (a
score at or above CHURN_THRESHOLD). Each task names the source its reason is derived from, so
the caller can hide a reason the viewer may not see (an amount, a birth date).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from insights.catalogue import Catalogue
from insights.history import signed
from insights.recommend import is_open

COMPLAINT_OPEN_DAYS = 7
BALANCE_DROP_DAYS = 30
BALANCE_DROP_SHARE = 0.3
CHURN_THRESHOLD = 0.5


class TaskKind(StrEnum):
    BIRTHDAY = "BIRTHDAY"
    MATURITY = "MATURITY"
    BALANCE_DROP = "BALANCE_DROP"
    COMPLAINT = "COMPLAINT"
    CHURN_RISK = "CHURN_RISK"


# The personal data kind each task's reason quotes (None: nothing personal beyond the task).
REASON_SOURCE: dict[TaskKind, str | None] = {
    TaskKind.BIRTHDAY: "BIRTH_DATE",
    TaskKind.MATURITY: None,
    TaskKind.BALANCE_DROP: "AMOUNT",
    TaskKind.COMPLAINT: None,
    # The score, shown under the amount modes churnRisk.score shows under
    # (resolvers.tasks.REASON_MODES).
    TaskKind.CHURN_RISK: "AMOUNT",
}

ACTIONS: dict[TaskKind, str] = {
    TaskKind.BIRTHDAY: "send 生日关怀 greetings (call or card) and check in on their plans",
    TaskKind.MATURITY: "call before maturity: offer renewal or a suitable deposit/wealth product",
    TaskKind.BALANCE_DROP: "call to understand the outflow; consider a retention offer",
    TaskKind.COMPLAINT: "follow up the complaint and agree a resolution",
    TaskKind.CHURN_RISK: "retention call: review needs and fees",
}


@dataclass(frozen=True)
class Task:
    id: str
    customer_id: str
    kind: TaskKind
    due: date
    reason: str
    action: str


# ":" separates a task id's parts. A customer or account id holding ":" or "%" (CRM:1) is
# written escaped (":" as %3A, "%" as %25) in an id that starts with ESCAPED ("v2:"), so
# that it reads back; an id without the prefix is read as it is written (literally). Ids of
# customers holding neither are written as they always were, and an id of before the escape
# whose customer id held "%3A" literally (OLD%3A1) still names that customer.
ESCAPED = "v2:"
_ESCAPES = {"%": "%25", ":": "%3A"}
_ESCAPED = re.compile("|".join(re.escape(e) for e in _ESCAPES.values()))
_UNESCAPE = {e: c for c, e in _ESCAPES.items()}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _part(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _unpart(text: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group(0)], text)


def task_id(kind: TaskKind, customer_id: str, due: date, ref: str = "") -> str:
    """A task's identity: never derived from the window it is listed in, so a completion
    (a CARE interaction carrying the id) matches it in every later listing."""
    if any(ch in _ESCAPES for ch in customer_id + ref):
        return f"{ESCAPED}{kind.value}:{_part(customer_id)}:{due.isoformat()}:{_part(ref)}"
    return f"{kind.value}:{customer_id}:{due.isoformat()}:{ref}"


def period_of(now: datetime) -> date:
    """The date that names a task raised by a standing condition (a balance drop, a churn
    risk) rather than by a dated event: the first of the current month. Completed, such a
    task stays gone for the rest of the month; it comes back next month if the condition
    still holds."""
    return now.date().replace(day=1)


def parse_task_id(value: str) -> tuple[TaskKind, str, date, str]:
    """(kind, customer id, due date, ref); ValueError when it is not a task id. An id with
    the ESCAPED prefix has its parts unescaped; one without is read literally, and when it
    has more than four parts (written before ":" was escaped: ``BIRTHDAY:CRM:1:2026-12-05:``)
    it reads when exactly one of them is a date. ``task_id`` of the result is the id in its
    current form."""
    if value.startswith(ESCAPED):
        kind, *middle = value[len(ESCAPED) :].split(":")
        if len(middle) != 3:
            raise ValueError("not a task id (v2:KIND:customer:date:ref)")
        customer_id, due, ref = middle
        return TaskKind(kind), _unpart(customer_id), date.fromisoformat(due), _unpart(ref)
    kind, *middle = value.split(":")
    if len(middle) == 3:
        customer_id, due, ref = middle
        return TaskKind(kind), customer_id, date.fromisoformat(due), ref
    days = [i for i, part in enumerate(middle[:-1]) if i and _DAY.fullmatch(part)]
    if len(days) != 1:
        raise ValueError("not a task id (KIND:customer:date:ref)")
    (i,) = days
    return (
        TaskKind(kind),
        ":".join(middle[:i]),
        date.fromisoformat(middle[i]),
        ":".join(middle[i + 1 :]),
    )


def current_task_id(value: str, customer_id: str | None = None) -> str:
    """A stored completion's task id in its current form (one written before ":" was
    escaped names the same task); a value that is no task id is kept as it is.
    ``customer_id``: the customer the completion belongs to. For a while (session 20) ids
    were escaped without the prefix: such an id reads literally as another customer's, so
    where its unescaped reading names ``customer_id`` and the literal one does not, it is
    read unescaped."""
    try:
        kind, cid, due, ref = parse_task_id(value)
    except ValueError:
        return value
    interim = not value.startswith(ESCAPED) and cid != customer_id
    if interim and customer_id is not None and _unpart(cid) == customer_id:
        cid, ref = customer_id, _unpart(ref)
    return task_id(kind, cid, due, ref)


def completed_task_ids(value: str, customer_id: str) -> frozenset[str]:
    """The task ids (current form) a completion stored with ``value`` for ``customer_id``
    closes: :func:`current_task_id`, and for an unprefixed id holding an escape ("%3A",
    "%25") also its reading with the ref unescaped. Session 20 escaped both parts without the
    prefix, so a plain customer id beside an escaped ref (``MATURITY:C1:2026-12-05:ACC%3A9``,
    account ACC:9) reads literally as account "ACC%3A9" (review, session 21: the completed
    task came back). Both readings count: the other is a task of the same customer whose
    account id holds "%3A" literally, not seen in practice."""
    current = current_task_id(value, customer_id)
    if value.startswith(ESCAPED) or _ESCAPED.search(value) is None:
        return frozenset({current})
    try:
        kind, cid, due, ref = parse_task_id(current)
    except ValueError:  # no task id: kept as it is
        return frozenset({current})
    return frozenset({current, task_id(kind, cid, due, _unpart(ref))})


def _birthday(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def birthdays(customer_id: str, birth: date | None, start: date, end: date) -> list[Task]:
    if birth is None:
        return []
    out = []
    for year in range(start.year, end.year + 1):
        day = _birthday(birth, year)
        if start <= day <= end and year > birth.year:  # never a birthday before the birth
            out.append(
                Task(task_id(TaskKind.BIRTHDAY, customer_id, day), customer_id,
                     TaskKind.BIRTHDAY, day, f"birthday on {day:%m-%d} (turns {year - birth.year})",
                     ACTIONS[TaskKind.BIRTHDAY])
            )  # fmt: skip
    return out


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def next_maturity(opened: date, term_months: int, start: date) -> date:
    """The first end of a term on or after ``start`` (terms roll over)."""
    k = max(1, ((start.year - opened.year) * 12 + start.month - opened.month) // term_months)
    due = _add_months(opened, k * term_months)
    while due < start:
        k += 1
        due = _add_months(opened, k * term_months)
    return due


def maturities(
    customer_id: str, accounts: Sequence[Mapping[str, Any]], catalogue: Catalogue,
    start: date, end: date,
) -> list[Task]:  # fmt: skip
    out = []
    for a in accounts:
        product = catalogue.get(str(a.get("product") or ""))
        opened = _date(a.get("openedAt"))
        if product is None or not product.term_months or opened is None:
            continue
        if not is_open(a):
            continue
        due = next_maturity(opened, product.term_months, start)
        if due <= end:
            out.append(
                Task(task_id(TaskKind.MATURITY, customer_id, due, str(a["id"])), customer_id,
                     TaskKind.MATURITY, due, f"{product.name} ({a['id']}) matures on {due}",
                     ACTIONS[TaskKind.MATURITY])
            )  # fmt: skip
    return out


def balance_drop(
    customer_id: str, history: Mapping[str, Any], now: datetime, start: date, end: date
) -> list[Task]:
    since = (now - timedelta(days=BALANCE_DROP_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    accounts = {
        a["id"]: a
        for a in history.get("accounts") or []
        if str(a.get("type") or "").upper() not in ("LOAN", "CREDIT_CARD")
    }
    flow = sum(
        signed(t)
        for t in history.get("transactions") or []
        if t.get("accountId") in accounts and str(t.get("time") or "") >= since
    )
    assets = sum(float(a.get("balance") or 0) for a in accounts.values())
    before = assets - flow
    if flow >= 0 or before <= 0 or -flow / before < BALANCE_DROP_SHARE:
        return []
    due = max(start, now.date())
    if due > end:
        return []
    return [
        Task(task_id(TaskKind.BALANCE_DROP, customer_id, period_of(now)), customer_id,
             TaskKind.BALANCE_DROP, due, f"assets down {-flow / before:.0%} (¥{-flow:,.0f}) in "
             f"the last {BALANCE_DROP_DAYS} days", ACTIONS[TaskKind.BALANCE_DROP])
    ]  # fmt: skip


def complaints(
    customer_id: str, interactions: Sequence[Mapping[str, Any]], now: datetime,
    start: date, end: date,
) -> list[Task]:  # fmt: skip
    out = []
    for i in interactions:
        if str(i.get("kind") or "").upper() != "COMPLAINT" or i.get("resolved") is not False:
            continue
        made = _date(i.get("time"))
        if made is None:
            continue
        overdue_from = made + timedelta(days=COMPLAINT_OPEN_DAYS)
        if overdue_from > end:
            continue
        # Listed as due at the window's start once overdue; named by the day it became
        # overdue, whatever the window.
        due = max(start, overdue_from)
        age = (now.date() - made).days
        out.append(
            Task(task_id(TaskKind.COMPLAINT, customer_id, overdue_from, str(i.get("id") or "")),
                 customer_id, TaskKind.COMPLAINT, due,
                 f"complaint of {made} unresolved for {age} days: {i.get('summary') or ''}".strip(),
                 ACTIONS[TaskKind.COMPLAINT])
        )  # fmt: skip
    return out


def churn_task(
    customer_id: str, alert: tuple[float, str] | None, now: datetime, start: date, end: date
) -> list[Task]:
    """``alert``: (score, why it is high) when the caller judged it high enough; else None.
    Due from today (a standing condition), named by the month (:func:`period_of`)."""
    if alert is None:
        return []
    due = max(start, now.date())
    if due > end:
        return []
    score, why = alert
    return [
        Task(task_id(TaskKind.CHURN_RISK, customer_id, period_of(now)), customer_id,
             TaskKind.CHURN_RISK, due, f"churn risk {score:.1%} ({why})",
             ACTIONS[TaskKind.CHURN_RISK])
    ]  # fmt: skip


def care_tasks(
    history: Mapping[str, Any],
    churn_alert: tuple[float, str] | None,
    catalogue: Catalogue,
    now: datetime,
    start: date,
    end: date,
    done: frozenset[str] = frozenset(),
) -> list[Task]:
    """Every task of one customer due in [start, end], without those already ``done``;
    ``churn_alert`` is (score, why it is high) when it calls for a task, else None."""
    customer = history.get("customer") or {}
    cid = str(customer.get("id"))
    tasks = [
        *birthdays(cid, _date(customer.get("birthDate")), start, end),
        *maturities(cid, history.get("accounts") or [], catalogue, start, end),
        *balance_drop(cid, history, now, start, end),
        *complaints(cid, history.get("interactions") or [], now, start, end),
        *churn_task(cid, churn_alert, now, start, end),
    ]
    return sorted((t for t in tasks if t.id not in done), key=lambda t: (t.due, t.id))


__all__ = [
    "ACTIONS",
    "ESCAPED",
    "REASON_SOURCE",
    "Task",
    "TaskKind",
    "care_tasks",
    "completed_task_ids",
    "current_task_id",
    "next_maturity",
    "parse_task_id",
    "period_of",
    "task_id",
]
