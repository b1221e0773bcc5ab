"""``advisorTasks`` / ``completeTask``: care tasks over the caller's own customers.

The candidates are the customers MANAGED_BY the caller's subject; the policy decides, per
customer, whether the caller may read (list) or write (complete) their care tasks (resource
type CareTask, one decision per customer and request). A task's reason is derived from
personal data: it is null unless the decision reveals its source (REASON_SOURCE). A BIRTHDAY
task is more: its date and id are the birthday, so it exists for a caller only where the
decision reveals the birth date (else it is neither listed nor completable).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from graph.repositories.access import ACCESS_KEY, customer_attributes, customers_with_access
from graph.repositories.campaigns import log_care
from graph.repositories.insights import managed_customer_ids
from insights import churn
from insights.tasks import (
    CHURN_THRESHOLD,
    REASON_SOURCE,
    Task,
    TaskKind,
    care_tasks,
    completed_task_ids,
    parse_task_id,
)
from insights.tasks import task_id as make_task_id  # complete_task's argument is task_id
from privacy.masking import OWN_KINDS, QUOTED_KINDS, mask_quoted
from privacy.types import Decision, MaskMode, Resource
from resolvers.analytics import iso
from resolvers.churn_model import SCORE_MODES
from resolvers.context import RequestContext
from resolvers.errors import ApiError, BadUserInput, NotFound
from resolvers.nba import models, rule_score
from resolvers.pagination import Page, check_first, page_after
from resolvers.privacy import READ, UNSEEN_ATTRIBUTES, WRITE, Forbidden, own_of
from shared.as_of import MAX_YEARS_AWAY, YEARS_AWAY
from shared.echo import echo_id
from shared.records import CARE_KIND
from shared.validators import has_format_character

log = logging.getLogger("c360.tasks")

CARE_TASK = "CareTask"
MAX_WINDOW_DAYS = 366
# How far from today a window may lie (shared.as_of.MAX_YEARS_AWAY): tasks are for the
# advisor's near future (dates near year 1 or 9999 broke the date arithmetic and listed
# birthdays before the birth).
MAX_NOTE = 2000
# The one format character a note may hold: it joins emoji (👨‍👩‍👧), as in social handles.
EMOJI_JOINER = "\u200d"
# advisorTasks' default window: from today, this many days ahead. It is also what "open now"
# means to completeTask: a task it lists (due in it, or overdue and still open, as an
# unresolved complaint) can be completed; one years ahead or back cannot (QA, session 24:
# birthdays of 2012, 2027 and 2999 were completed).
DEFAULT_WINDOW_DAYS = 14
NOT_OPEN = (
    "no open task with this id: a task can be completed while advisorTasks lists it by "
    f"default (due from today to {DEFAULT_WINDOW_DAYS} days ahead, or overdue and still open)"
)


# The modes of REASON_SOURCE a reason shows under, where not the source revealed: a churn
# risk's reason quotes the score, so it shows wherever churnRisk.score does (QA, session 24:
# it quoted "churn risk 34.3%" to a caller whose amounts were redacted).
REASON_MODES: dict[TaskKind, tuple[str, ...]] = {TaskKind.CHURN_RISK: SCORE_MODES}


class UnreadableHistory(ApiError):
    """completeTask for a customer whose stored history cannot be read (insights.churn)."""

    code = "UNREADABLE_HISTORY"


@dataclass(frozen=True)
class VisibleTask:
    task: Task
    reason: str | None
    revealed: bool  # the reason shown whole (audited as revealed)


async def _decide(context: RequestContext, ids: list[str], action: str) -> dict[str, Decision]:
    """One CareTask decision per customer, remembered for the audit record."""
    privacy = context.privacy
    rows = await customers_with_access(context.store, ids)
    resources = [Resource(CARE_TASK, cid, rows[cid][ACCESS_KEY]) for cid in ids if cid in rows]
    privacy.audit_always = True
    privacy.details.setdefault("resources", []).append(f"{CARE_TASK}:{action}")
    decided = await privacy.decide(resources, action) if resources else {}
    for cid, decision in decided.items():
        privacy.resources[(CARE_TASK, cid)] = decision
        # The name and address a complaint's reason is checked against (_visible).
        privacy.own.setdefault(cid, own_of(rows[cid]))
    return decided


def _churn_alert(
    model: churn.ChurnModel | None, history: dict[str, Any], now: datetime
) -> tuple[float, str] | None:
    """The churn score when it calls for a task (the model's top decile, else the rule score
    at CHURN_THRESHOLD); None for a customer who has already left, or below the bar."""
    if churn.churned_at(history) is not None:
        return None
    if model is not None:
        score = model.score(churn.features(history, now))
        if score < model.alert_threshold:
            return None
        return score, f"model: in the riskiest tenth, base rate {model.base_rate:.1%}"
    score = rule_score(history, now)
    return (score, "rule score") if score >= CHURN_THRESHOLD else None


def _tasks_of(
    context: RequestContext,
    history: dict[str, Any],
    catalogue: Any,
    start: date,
    end: date,
    decision: Decision,
) -> list[Task]:
    """The customer's open tasks in [start, end] that ``decision`` lets the caller know of.
    Raises churn.UnreadableHistory when a stored value of the history cannot be read (a time
    that is no time); anything else (a churn model file that cannot be used) is no customer's
    and fails the request."""
    customer_id = str((history.get("customer") or {}).get("id"))
    model = models(context.settings.resolved_data_dir).churn_model()
    try:
        done = frozenset(
            task
            for i in history.get("interactions") or []
            if i.get("taskId")
            for task in completed_task_ids(str(i["taskId"]), customer_id)
        )
        alert = _churn_alert(model, history, context.analytics_now)
        tasks = care_tasks(history, alert, catalogue, context.analytics_now, start, end, done)
    except churn.READ_ERRORS as exc:
        raise churn.unreadable(customer_id, exc) from exc
    return [t for t in tasks if _exists_for(t, decision)]


def _exists_for(task: Task, decision: Decision) -> bool:
    """False for a BIRTHDAY task unless the birth date is revealed: its due date and id are
    the birthday, which hiding the reason alone would still give away (the service mask
    shows only the birth year)."""
    return task.kind != TaskKind.BIRTHDAY or decision.mode_for("BIRTH_DATE") == MaskMode.REVEAL


def _visible(
    task: Task, decision: Decision, hmac_key: bytes, own: dict[str, Any] | None = None
) -> VisibleTask:
    """The task as ``decision`` shows it: the reason null unless its source is revealed; a
    complaint's reason quotes the interaction's summary, whose personal data is masked as the
    summary itself would be (privacy.masking.mask_quoted; ``own``: the customer's name and
    address, masked in it as those fields are)."""
    source = REASON_SOURCE[task.kind]
    shown_in = REASON_MODES.get(task.kind, (MaskMode.REVEAL,))
    if source is not None and decision.mode_for(source) not in shown_in:
        return VisibleTask(task, None, False)
    if task.kind != TaskKind.COMPLAINT:
        return VisibleTask(task, task.reason, True)
    modes = {kind: decision.mode_for(kind) for kind in (*QUOTED_KINDS, *OWN_KINDS)}
    reason = mask_quoted(task.reason, modes, hmac_key, own)
    return VisibleTask(task, reason, reason == task.reason)


def _note_returned(context: RequestContext, page: Page[VisibleTask], with_reason: bool) -> None:
    """Audit what the response holds: the customers of the page returned, and the reason
    only where it was selected (not every task of the window, nor an unasked field)."""
    privacy = context.privacy
    for visible, _ in page.items:
        cid = visible.task.customer_id
        privacy.customers_touched.add(cid)
        if with_reason:
            log = privacy.fields[cid]
            (log.revealed if visible.revealed else log.masked).add("advisorTasks.reason")


def check_window(today: date, start: date, end: date) -> None:
    """BadUserInput unless [start, end] is a window tasks can be listed for."""
    if end < start:
        raise BadUserInput("to is before from", field="to")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise BadUserInput(f"the window is at most {MAX_WINDOW_DAYS} days", field="to")
    for name, day in (("from", start), ("to", end)):
        if not today - YEARS_AWAY <= day <= today + YEARS_AWAY:
            raise BadUserInput(f"{name} must be within {MAX_YEARS_AWAY} years of today", field=name)


async def advisor_tasks(context: RequestContext, start: date, end: date) -> list[VisibleTask]:
    """Every task due in [start, end] for the caller's customers the policy lets them see."""
    check_window(context.analytics_now.date(), start, end)
    principal = context.privacy.principal
    best = customer_attributes(
        principal.subject if principal else None, principal.branch if principal else None,
        True, True,
    )  # fmt: skip
    # Fails closed: a caller no CareTask grant reaches even for a customer every scope admits
    # (managed by them, in their branch, consenting) has none for this role and purpose, and
    # is refused, not told of an empty list (a marketer manages no customer to be denied).
    reach = (await context.privacy.decide([Resource(CARE_TASK, "best", best)], READ))["best"]
    if principal is None or not reach.allow:
        context.privacy.denied = True
        raise Forbidden(f"access denied: {reach.reason}")
    ids = await managed_customer_ids(context.store, principal.subject)
    decided = await _decide(context, ids, READ)
    allowed = [cid for cid in ids if cid in decided and decided[cid].allow]
    if ids and not allowed:
        context.privacy.denied = True
        reason = next(iter(decided.values())).reason if decided else "no decision"
        raise Forbidden(f"access denied: {reason}")
    histories = await context.nba.history.load_many(allowed)
    catalogue = context.catalogue
    out: list[VisibleTask] = []
    for cid, history in zip(allowed, histories, strict=True):
        if history is None:
            continue
        try:
            tasks = _tasks_of(context, history, catalogue, start, end, decided[cid])
        except churn.UnreadableHistory as exc:
            # One customer's record (a time that is no time) does not take every other
            # customer's tasks with it: theirs are listed, this one is named in the log.
            log.warning("advisorTasks leaves this customer's tasks out: %s", exc)
            continue
        own = context.privacy.own.get(cid)
        out.extend(_visible(task, decided[cid], context.privacy.hmac_key, own) for task in tasks)
    out.sort(key=lambda v: (v.task.due, v.task.id))
    return out


def _due_key(visible: VisibleTask) -> tuple[str, str]:
    return (visible.task.due.isoformat(), visible.task.id)


async def advisor_tasks_page(
    context: RequestContext,
    start: date,
    end: date,
    first: int | None,
    after: str | None,
    with_reason: bool = True,
) -> Page[VisibleTask]:
    """A page of :func:`advisor_tasks`, earliest first; ``with_reason``: the selection reads
    the reason (audited as revealed or masked)."""
    limit = check_first(first, context.settings.max_page_size)
    tasks = await advisor_tasks(context, start, end)
    page = page_after(tasks, _due_key, limit, after, parts=2)
    _note_returned(context, page, with_reason)
    return page


async def _unseen_task(context: RequestContext, customer_id: str) -> ApiError:
    """The one error for a task of a customer the caller may not complete, whether that
    customer exists or not (as RequestPrivacy.unseen for customers): NOT_FOUND for a caller
    whose grants reach every customer's tasks, else FORBIDDEN with the reason the policy gives
    for a customer no grant singles out, never the reason for the customer named."""
    privacy = context.privacy
    floor_resource = Resource(CARE_TASK, "floor", UNSEEN_ATTRIBUTES)
    floor = (await privacy.decide([floor_resource], WRITE))["floor"]
    privacy.customers_touched.add(customer_id)
    if floor.allow:
        return NotFound("no open task with this id", field="id")
    privacy.denied = True
    return Forbidden(f"access denied: {floor.reason}", id=customer_id)


def _open_ids(
    context: RequestContext, history: dict[str, Any], catalogue: Any, decision: Decision
) -> set[str]:
    """Ids of the customer's tasks open now: those advisorTasks lists in its default window
    (an overdue complaint is listed there whenever it became overdue; a standing condition's
    task, named by its month, from today), as ``decision`` lets the caller know of them (a
    BIRTHDAY id guessed day by day is no birthday oracle). The day a task id names is never
    listed from: that completed birthdays years ahead or back."""
    today = context.analytics_now.date()
    end = today + timedelta(days=DEFAULT_WINDOW_DAYS)
    return {t.id for t in _tasks_of(context, history, catalogue, today, end, decision)}


def completion_id(task_id: str) -> str:
    """The id of the interaction completing a task: one per task, so a second completion
    (a retry, a concurrent request) finds it instead of writing another."""
    return "care-" + hashlib.sha256(task_id.encode()).hexdigest()[:32]


async def complete_task(context: RequestContext, task_id: str, note: str) -> dict[str, Any]:
    """Log the interaction that completes a task; the stored row."""
    try:
        kind, customer_id, due, ref = parse_task_id(task_id)
    except ValueError:
        raise BadUserInput("not a care task id", field="id") from None
    # The id as listings write it (an id from before ":" in ids was escaped, without the
    # "v2:" prefix, is read literally and names the same task).
    task_id = make_task_id(kind, customer_id, due, ref)
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise BadUserInput(f"note must be 1..{MAX_NOTE} characters", field="note")
    if has_format_character(note, allowed=EMOJI_JOINER):
        # Invisible, a bidi override makes the note read as other text, as in an id or a
        # handle (the same check refuses those).
        raise BadUserInput(
            "note: contains an invisible formatting character (e.g. U+202E, U+200B); write "
            "the note without it",
            field="note",
        )
    decided = await _decide(context, [customer_id], WRITE)
    decision = decided.get(customer_id)
    if decision is None or not decision.allow:
        # An unknown customer and one the caller may not serve: the same answer.
        raise await _unseen_task(context, customer_id)
    history = await context.nba.history.load(customer_id)
    catalogue = context.catalogue
    try:
        open_ids = _open_ids(context, history or {}, catalogue, decision)
    except churn.UnreadableHistory as exc:
        log.warning("completeTask refused: %s", exc)
        raise UnreadableHistory(
            "this customer's stored history holds a value that cannot be read (a time that "
            "is no time): their open tasks cannot be told; correct the record, then retry",
            id=customer_id,
        ) from None
    if task_id not in open_ids:
        raise NotFound(NOT_OPEN, field="id")
    context.privacy.customers_touched.add(customer_id)
    await context.privacy.audit_intent({"completeTask": echo_id(task_id)}, (customer_id,))
    row: dict[str, Any] = {
        "id": completion_id(task_id),
        "customerId": customer_id,
        "props": {
            "kind": CARE_KIND,
            "channel": "PHONE",
            "time": iso(context.now),
            "summary": note,
            "resolved": True,
            "taskId": task_id,
        },
    }
    written = await log_care(context.store, row)
    context.nba.history.clear(customer_id)
    if not written:
        # Another request completed it between the check above and this write.
        raise NotFound("no open task with this id: completed already", field="id")
    return {**row["props"], "id": row["id"], "customerId": customer_id, "products": []}


__all__ = [
    "CARE_TASK",
    "DEFAULT_WINDOW_DAYS",
    "VisibleTask",
    "advisor_tasks",
    "advisor_tasks_page",
    "check_window",
    "complete_task",
    "completion_id",
]
