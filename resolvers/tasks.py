"""``advisorTasks`` / ``completeTask``: care tasks over the caller's own customers.

The candidates are the customers MANAGED_BY the caller's subject; the policy decides, per
customer, whether the caller may read (list) or write (complete) their care tasks (resource
type CareTask, one decision per customer and request). A task's reason is derived from
personal data: it is null unless the decision reveals its source (REASON_SOURCE).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.repositories.access import ACCESS_KEY, customers_with_access
from graph.repositories.campaigns import log_care
from graph.repositories.insights import managed_customer_ids
from insights import churn
from insights.tasks import CHURN_THRESHOLD, REASON_SOURCE, Task, care_tasks, parse_task_id
from privacy.types import Decision, MaskMode, Resource
from resolvers.analytics import iso
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, NotFound
from resolvers.nba import models, rule_score
from resolvers.pagination import Page, check_first, page_after
from resolvers.privacy import READ, WRITE, Forbidden

CARE_TASK = "CareTask"
MAX_WINDOW_DAYS = 366
MAX_NOTE = 2000


@dataclass(frozen=True)
class VisibleTask:
    task: Task
    reason: str | None


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
    return decided


def _churn_alert(context: RequestContext, history: dict[str, Any]) -> tuple[float, str] | None:
    """The churn score when it calls for a task (the model's top decile, else the rule score
    at CHURN_THRESHOLD); None for a customer who has already left, or below the bar."""
    if churn.churned_at(history) is not None:
        return None
    model = models(context.settings.resolved_data_dir).churn_model()
    if model is not None:
        score = model.score(churn.features(history, context.now))
        if score < model.alert_threshold:
            return None
        return score, f"model: in the riskiest tenth, base rate {model.base_rate:.1%}"
    score = rule_score(history, context.now)
    return (score, "rule score") if score >= CHURN_THRESHOLD else None


def _tasks_of(
    context: RequestContext, history: dict[str, Any], catalogue: Any, start: date, end: date
) -> list[Task]:
    done = frozenset(str(i["taskId"]) for i in history.get("interactions") or [] if i.get("taskId"))
    return care_tasks(
        history, _churn_alert(context, history), catalogue, context.now, start, end, done
    )


def _visible(context: RequestContext, task: Task, decision: Decision) -> VisibleTask:
    source = REASON_SOURCE[task.kind]
    shown = source is None or decision.mode_for(source) == MaskMode.REVEAL
    privacy = context.privacy
    log = privacy.fields[task.customer_id]
    (log.revealed if shown else log.masked).add("advisorTasks.reason")
    privacy.customers_touched.add(task.customer_id)
    return VisibleTask(task, task.reason if shown else None)


async def advisor_tasks(context: RequestContext, start: date, end: date) -> list[VisibleTask]:
    """Every task due in [start, end] for the caller's customers the policy lets them see."""
    if end < start:
        raise BadUserInput("to is before from", field="to")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise BadUserInput(f"the window is at most {MAX_WINDOW_DAYS} days", field="to")
    principal = context.privacy.principal
    if principal is None:
        return []
    ids = await managed_customer_ids(context.store, principal.subject)
    decided = await _decide(context, ids, READ)
    allowed = [cid for cid in ids if cid in decided and decided[cid].allow]
    if ids and not allowed:
        context.privacy.denied = True
        reason = next(iter(decided.values())).reason if decided else "no decision"
        raise Forbidden(f"access denied: {reason}")
    histories = await context.nba.history.load_many(allowed)
    catalogue = await context.nba.catalogue()
    out: list[VisibleTask] = []
    for cid, history in zip(allowed, histories, strict=True):
        if history is None:
            continue
        for task in _tasks_of(context, history, catalogue, start, end):
            out.append(_visible(context, task, decided[cid]))
    out.sort(key=lambda v: (v.task.due, v.task.id))
    return out


def _due_key(visible: VisibleTask) -> tuple[str, str]:
    return (visible.task.due.isoformat(), visible.task.id)


async def advisor_tasks_page(
    context: RequestContext, start: date, end: date, first: int | None, after: str | None
) -> Page[VisibleTask]:
    """A page of :func:`advisor_tasks`, earliest first."""
    limit = check_first(first, context.settings.max_page_size)
    return page_after(await advisor_tasks(context, start, end), _due_key, limit, after, parts=2)


async def complete_task(context: RequestContext, task_id: str, note: str) -> dict[str, Any]:
    """Log the interaction that completes a task; the stored row."""
    try:
        _, customer_id, due, _ = parse_task_id(task_id)
    except ValueError:
        raise BadUserInput("not a care task id", field="id") from None
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise BadUserInput(f"note must be 1..{MAX_NOTE} characters", field="note")
    decided = await _decide(context, [customer_id], WRITE)
    decision = decided.get(customer_id)
    if decision is None:
        raise NotFound("no open task with this id", field="id")
    if not decision.allow:
        context.privacy.denied = True
        raise Forbidden(f"access denied: {decision.reason}", id=customer_id)
    history = await context.nba.history.load(customer_id)
    catalogue = await context.nba.catalogue()
    open_ids = {t.id for t in _tasks_of(context, history or {}, catalogue, due, due)}
    if task_id not in open_ids:
        raise NotFound("no open task with this id", field="id")
    context.privacy.customers_touched.add(customer_id)
    await context.privacy.audit_intent({"completeTask": task_id}, (customer_id,))
    row: dict[str, Any] = {
        "id": f"care-{uuid.uuid4().hex}",
        "customerId": customer_id,
        "props": {
            "kind": "CARE",
            "channel": "PHONE",
            "time": iso(context.now),
            "summary": note,
            "resolved": True,
            "taskId": task_id,
        },
    }
    await log_care(context.store, row)
    context.nba.history.clear(customer_id)
    return {**row["props"], "id": row["id"], "customerId": customer_id, "products": []}


__all__ = ["CARE_TASK", "VisibleTask", "advisor_tasks", "advisor_tasks_page", "complete_task"]
