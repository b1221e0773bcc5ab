"""Care tasks: the QA findings of session 13 (completeTask as an existence oracle, completed
tasks coming back in a later window, concurrent completions, windows far away, the audit of
advisorTasks), on the demo book in the real graph with the real Rego engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.store import GraphStore
from hub.demo import seed_demo
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api, codes

TASKS = """
query Tasks($from: Date, $to: Date, $first: Int) {
  advisorTasks(from: $from, to: $to, first: $first) {
    totalCount edges { node { id customerId kind dueDate reason } } } }
"""
COMPLETE = """
mutation C($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { id kind } }
"""


async def advisors(store: GraphStore) -> list[dict[str, Any]]:
    """Advisors with their customers, the busiest first."""
    return await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) "
        "RETURN a.id AS id, collect(c.id) AS customers ORDER BY size(customers) DESC, id"
    )


async def tasks_of(api: Api, start: date | None = None, end: date | None = None) -> list[dict]:
    variables: dict[str, Any] = {"first": 100}
    if start is not None:
        variables["from"] = start.isoformat()
    if end is not None:
        variables["to"] = end.isoformat()
    body = await api.gql(TASKS, variables)
    assert not body.get("errors"), body
    return [e["node"] for e in body["data"]["advisorTasks"]["edges"]]


async def test_complete_task_answers_alike_for_an_unknown_and_a_foreign_customer(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """QA finding A: NOT_FOUND for a customer that does not exist, FORBIDDEN naming the
    advisor for one that exists but is not theirs: an existence oracle."""
    await seed_demo(store, customers=120, seed=42, progress=False)
    rows = await advisors(store)
    mine, theirs = rows[0], rows[1]
    advisor = as_role("advisor", "service", mine["id"])
    foreign = sorted(theirs["customers"])[0]
    today = datetime.now(UTC).date().isoformat()
    unknown = await advisor.gql(COMPLETE, {"id": f"COMPLAINT:C999999:{today}:I1", "note": "x"})
    other = await advisor.gql(COMPLETE, {"id": f"COMPLAINT:{foreign}:{today}:I1", "note": "x"})
    assert codes(unknown) == codes(other) == ["FORBIDDEN"]
    (a,), (b,) = unknown["errors"], other["errors"]
    assert a["message"] == b["message"] and foreign not in b["message"]
    assert set(a["extensions"]) == set(b["extensions"])
    assert a["extensions"]["id"] == "C999999" and b["extensions"]["id"] == foreign


async def _tasks_with(
    store: GraphStore, as_role: Callable[..., Api], kind: str, today: date
) -> tuple[Api, dict[str, Any]]:
    """An advisor and one of their tasks of ``kind`` due today."""
    for row in await advisors(store):
        api = as_role("advisor", "service", row["id"])
        found = [t for t in await tasks_of(api) if t["kind"] == kind and t["dueDate"] == str(today)]
        if found:
            return api, found[0]
    raise AssertionError(f"no {kind} task due today in the demo book")


async def test_a_completed_task_stays_gone_in_every_window(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """QA finding B: an overdue complaint's task id carried the window's start, so after
    completing it a window from another day listed it again under a new id."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    today = datetime.now(UTC).date()
    advisor, task = await _tasks_with(store, as_role, "COMPLAINT", today)
    ref = task["id"].rsplit(":", 1)[1]
    windows = [(today + timedelta(days=d), today + timedelta(days=d + 14)) for d in (1, 2, 10)]

    def same(t: dict[str, Any]) -> bool:
        return t["kind"] == "COMPLAINT" and t["id"].rsplit(":", 1)[1] == ref

    # Before completion: the same task (same id) in every window.
    for start, end in windows:
        assert [t["id"] for t in await tasks_of(advisor, start, end) if same(t)] == [task["id"]]
    done = await advisor.gql(COMPLETE, {"id": task["id"], "note": "已电话联系客户"})
    assert not done.get("errors"), done
    assert not [t for t in await tasks_of(advisor) if same(t)]
    for start, end in windows:
        assert not [t for t in await tasks_of(advisor, start, end) if same(t)], (start, end)


async def test_concurrent_completions_write_one_interaction(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """QA finding C: four concurrent completeTask calls for one task: three succeeded and
    wrote three CARE interactions."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    today = datetime.now(UTC).date()
    advisor, task = await _tasks_with(store, as_role, "COMPLAINT", today)
    bodies = await asyncio.gather(
        *(advisor.gql(COMPLETE, {"id": task["id"], "note": f"call {n}"}) for n in range(4))
    )
    ok = [b for b in bodies if not b.get("errors")]
    assert len(ok) == 1, bodies
    assert all(codes(b) == ["NOT_FOUND"] for b in bodies if b.get("errors"))
    (row,) = await store.read(
        "MATCH (:Customer {id: $id})-[:HAD]->(i:Interaction) WHERE i.kind = 'CARE' "
        "RETURN count(i) AS n",
        {"id": task["customerId"]},
    )
    assert row["n"] == 1


async def test_a_window_far_away_is_refused(store: GraphStore, as_role: Callable[..., Api]) -> None:
    """QA finding D: a window in year 9999 was an internal error (date arithmetic), one from
    year 1 listed birthdays before the customer was born."""
    await seed_demo(store, customers=60, seed=42, progress=False)
    rows = await advisors(store)
    advisor = as_role("advisor", "service", rows[0]["id"])
    for variables, field in (
        ({"from": "9999-06-01", "to": "9999-12-31"}, "from"),
        ({"from": "9999-12-25"}, "from"),
        ({"from": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
    ):
        body = await advisor.gql(TASKS, {"first": 10, **variables})
        assert codes(body) == ["BAD_USER_INPUT"], (variables, body)
        assert body["errors"][0]["extensions"]["field"] == field
    customer = sorted(rows[0]["customers"])[0]
    body = await advisor.gql(COMPLETE, {"id": f"MATURITY:{customer}:9999-12-31:A1", "note": "x"})
    assert codes(body) == ["NOT_FOUND"]


async def test_advisor_tasks_audit_the_page_returned_and_the_fields_selected(
    store: GraphStore, data_dir: Path, as_role: Callable[..., Api]
) -> None:
    """QA finding E: ``advisorTasks(first: 1) { edges { node { id customerId } } }`` audited
    every customer with a task in the window, each with advisorTasks.reason revealed."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    rows = await advisors(store)
    advisor = as_role("advisor", "service", rows[0]["id"])
    assert len({t["customerId"] for t in await tasks_of(advisor)}) > 1
    query = "query Few { advisorTasks(first: 1) { edges { node { id customerId } } } }"
    body = await advisor.gql(query)
    assert not body.get("errors"), body
    (node,) = [e["node"] for e in body["data"]["advisorTasks"]["edges"]]
    with_reason = (
        "query Reasons { advisorTasks(first: 2) { edges { node { id customerId reason } } } }"
    )
    answered = await advisor.gql(with_reason)
    assert not answered.get("errors"), answered
    shown = {e["node"]["customerId"] for e in answered["data"]["advisorTasks"]["edges"]}
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    (few,) = [r for r in records if r["operation"] == "Few"]
    assert few["customer_ids"] == [node["customerId"]]
    assert few["fields"][node["customerId"]] == {"revealed": [], "masked": []}
    (reasons,) = [r for r in records if r["operation"] == "Reasons"]
    assert sorted(reasons["customer_ids"]) == sorted(shown)  # the page's customers, no more
    assert all("advisorTasks.reason" in f["revealed"] + f["masked"]
               for f in reasons["fields"].values())  # fmt: skip
