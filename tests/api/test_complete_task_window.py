"""completeTask accepts only a task that is open now: one advisorTasks lists in its default
window (due from today to 14 days ahead, or overdue and still open). QA, session
24: ``BIRTHDAY:C000322:2027-12-13:``, ``...:2999-12-09:`` and ``...:2012-12-09:`` were
completed (and a CARE interaction logged) years ahead or back. Through the ASGI app over the
real embedded graph and Rego."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from tests.api.conftest import Api, codes

WINDOW_DAYS = 14  # advisorTasks' default window (README, "Care tasks": the next 14 days)
COMPLETE = """
mutation C($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { id kind } }
"""


def away(today: date, days: int) -> date:
    """``days`` from today, moved off 29 February (a birthday then is the 28th most years)."""
    day = today + timedelta(days=days)
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


async def care_count(store: GraphStore, cid: str) -> int:
    (row,) = await store.read(
        "MATCH (:Customer {id: $id})-[:HAD]->(i:Interaction {kind: 'CARE'}) RETURN count(i) AS n",
        {"id": cid},
    )
    return int(row["n"])


async def test_only_a_task_open_now_can_be_completed(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    today = datetime.now(UTC).date()
    soon, later = away(today, 3), away(today, WINDOW_DAYS + 20)
    customers = [
        (cid, day.replace(year=1980)) for cid, day in (("w-soon", soon), ("w-later", later))
    ]
    await upsert_customers(
        store,
        [{"id": cid, "props": {"name": "周敏", "birthDate": born.isoformat()},
          "advisorId": "adv-w"} for cid, born in customers],
    )  # fmt: skip
    made = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    complaint = {"kind": "COMPLAINT", "channel": "PHONE", "time": made, "resolved": False}
    await upsert_interactions(store, [{"id": "w-c1", "customerId": "w-soon", "props": complaint}])
    advisor = as_role("advisor", "service", "adv-w")

    async def complete(task_id: str) -> dict[str, object]:
        return await advisor.gql(COMPLETE, {"id": task_id, "note": "已电话联系"})

    # A birthday beyond the default window, years ahead, far ahead, years back: refused, and
    # nothing is written.
    for task_id in (
        f"BIRTHDAY:w-later:{later.isoformat()}:",
        f"BIRTHDAY:w-soon:{soon.replace(year=soon.year + 1).isoformat()}:",
        f"BIRTHDAY:w-soon:{soon.replace(year=2999).isoformat()}:",
        f"BIRTHDAY:w-soon:{soon.replace(year=2012).isoformat()}:",
    ):
        body = await complete(task_id)
        assert codes(body) == ["NOT_FOUND"], (task_id, body)
        assert "advisorTasks" in body["errors"][0]["message"], body  # type: ignore[index]
    assert await care_count(store, "w-soon") == await care_count(store, "w-later") == 0
    # Open now: the birthday in three days, and the complaint overdue for over a year.
    overdue = (today - timedelta(days=400 - 7)).isoformat()
    for task_id in (f"BIRTHDAY:w-soon:{soon.isoformat()}:", f"COMPLAINT:w-soon:{overdue}:w-c1"):
        body = await complete(task_id)
        assert not body.get("errors"), (task_id, body)
    assert await care_count(store, "w-soon") == 2
