"""Only the customer's own activity counts: transactions and the interactions they made
(calls, chats, complaints, surveys), never the bank's contacts (a campaign's SMS logged by
logCampaignContacts, a care call logged by completeTask). QA, session 24: one of those reset
churnRisk to 0, turned a dormant customer ACTIVE and made their CHURN_RISK task vanish.
Through the ASGI app over the real embedded graph and Rego."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from tests.api.conftest import Api

ACTIVITY = """query($id: ID!) { customer(id: $id) {
  lifecycleStage churnRisk { score reasons } } }"""
TASKS = """{ advisorTasks(first: 50) { edges { node { customerId kind reason } } } }"""
NOW = datetime.now(UTC)


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def customer(
    store: GraphStore, cid: str, interactions: list[dict[str, Any]], advisor: str | None = None
) -> None:
    """A customer since 2020 whose last transaction was 200 days ago, with ``interactions``
    (kind, channel, days ago, ...)."""
    row: dict[str, Any] = {"id": cid, "props": {"name": "周敏", "createdAt": "2020-01-01"}}
    if advisor is not None:
        row["advisorId"] = advisor
    await upsert_customers(store, [row])
    account = {"type": "SAVINGS", "balance": 9000.0, "status": "ACTIVE"}
    await upsert_accounts(store, [{"id": f"{cid}-a", "customerId": cid, "props": account}])
    tx = {"amount": 50.0, "currency": "CNY", "kind": "DEPOSIT", "time": ago(200)}
    await upsert_transactions(store, [{"id": f"{cid}-t", "accountId": f"{cid}-a", "props": tx}])
    await upsert_interactions(
        store,
        [{"id": f"{cid}-i{n}", "customerId": cid, "props": props}
         for n, props in enumerate(interactions)],
    )  # fmt: skip


def contact(kind: str, channel: str, days: int, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "channel": channel, "time": ago(days), **extra}


async def test_the_banks_own_contacts_are_no_customer_activity(store: GraphStore, api: Api) -> None:
    bank = [contact("MARKETING", "SMS", 1), contact("CARE", "PHONE", 1, summary="voicemail")]
    await customer(store, "b-bank", bank)
    await customer(store, "b-own", [contact("INQUIRY", "PHONE", 1)])

    async def activity(cid: str) -> dict[str, Any]:
        body = await api.gql(ACTIVITY, {"id": cid})
        assert "errors" not in body, body
        return body["data"]["customer"]  # type: ignore[no-any-return]

    contacted = await activity("b-bank")
    assert contacted["lifecycleStage"] == "DORMANT", contacted
    assert contacted["churnRisk"]["reasons"] == ["no activity for 200 days"], contacted
    assert contacted["churnRisk"]["score"] > 0
    # The customer's own call is activity.
    assert await activity("b-own") == {
        "lifecycleStage": "LOYAL",  # a customer since 2020, active yesterday
        "churnRisk": {"score": 0.0, "reasons": []},
    }


async def test_a_care_call_does_not_make_the_churn_risk_task_vanish(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """Rule score 0.6 (two complaints in 180 days, silent since): a CHURN_RISK task. The care
    call logged by completing another of their tasks left it at 0.3, and the task went."""
    complaints = [contact("COMPLAINT", "PHONE", 170, resolved=True) for _ in range(2)]
    care = contact("CARE", "PHONE", 1, summary="left voicemail", taskId="MATURITY:b-t:x:y")
    await customer(store, "b-t", [*complaints, care], advisor="adv-b")
    body = await as_role("advisor", "service", "adv-b").gql(TASKS)
    assert "errors" not in body, body
    kinds = [e["node"]["kind"] for e in body["data"]["advisorTasks"]["edges"]]
    assert kinds == ["CHURN_RISK"], body
