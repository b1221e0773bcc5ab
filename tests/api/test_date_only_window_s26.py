"""A date-only transaction time is its midnight UTC in ``transactions(from:, to:)`` (QA,
session 26: T007 "2025-03-01" was missing from the window of 2025-03-01, and showed with
from: 2025-02-28)."""

from __future__ import annotations

from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api

WINDOW = """query($from: DateTime, $to: DateTime) { customer(id: "d-1") {
  transactions(first: 100, from: $from, to: $to) { totalCount edges { node { id time } } } } }"""
TIMES = {
    "EVE": "2025-02-28T23:59:59Z",
    "T006": "2025-03-01T08:00:00Z",
    "T007": "2025-03-01",
    "MID": "2025-03-01T00:00:00Z",
    "NEXT": "2025-03-02",
}


async def test_a_days_window_lists_its_date_only_transactions(store: GraphStore, api: Api) -> None:
    await upsert_customers(store, [{"id": "d-1", "props": {"name": "张三"}}])
    await upsert_accounts(
        store, [{"id": "d-ac", "props": {"type": "SAVINGS"}, "customerId": "d-1"}]
    )
    await upsert_transactions(
        store,
        [
            {"id": k, "accountId": "d-ac", "props": {"amount": 1.0, "time": t, "kind": "DEPOSIT"}}
            for k, t in TIMES.items()
        ],
    )
    body = await api.gql(WINDOW, {"from": "2025-03-01T00:00:00Z", "to": "2025-03-02T00:00:00Z"})
    page = body["data"]["customer"]["transactions"]
    # Newest first; the date-only row just after (older than) the same midnight in full.
    assert [e["node"]["id"] for e in page["edges"]] == ["T006", "MID", "T007"], body
    assert page["totalCount"] == 3
