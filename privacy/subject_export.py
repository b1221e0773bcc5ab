"""Access requests (PIPL Art. 45): everything the hub holds about one customer, as JSON, with
their access history from the audit log (who, when, for what purpose, which fields).

Reads go through the repositories, so sealed fields come back decrypted; the caller (CLI or
GraphQL) audits the export itself.
"""

from __future__ import annotations

from typing import Any

from graph.repositories import customer360 as repo
from graph.repositories.access import ACCESS_KEY, customers_with_access
from graph.repositories.social import accounts_of_customers
from graph.store import GraphStore
from privacy.services import AuditSink
from shared.amounts import money
from shared.records import MONEY_FIELDS

# Everything, not a page: an export is rare and per customer.
MAX_ITEMS = 100_000


async def held_about(store: GraphStore, customer_id: str) -> dict[str, Any] | None:
    """The customer's data in the graph; None when there is no such customer."""
    found = (await customers_with_access(store, [customer_id])).get(customer_id)
    if found is None:
        return None
    profile = {k: v for k, v in found.items() if k != ACCESS_KEY}
    ids = [customer_id]
    household = (await repo.household_by_customer(store, ids)).get(customer_id)
    advisor = (await repo.advisor_by_customer(store, ids)).get(customer_id)
    txs = await repo.transaction_pages(
        store, ids, limit=MAX_ITEMS, after=None, time_from=None, time_to=None
    )
    ixs = await repo.interaction_pages(store, ids, limit=MAX_ITEMS, after=None, kind=None)
    empty = repo.Page(0, [])
    return {
        "profile": profile,
        "advisorId": advisor["id"] if advisor else None,
        "household": household,
        "accounts": _amounts((await repo.accounts_by_customer(store, ids)).get(customer_id, [])),
        "transactions": _amounts(txs.get(customer_id, empty).items),
        "interactions": ixs.get(customer_id, empty).items,
        "related": (await repo.related_by_customer(store, ids)).get(customer_id, []),
        "socialAccounts": (await accounts_of_customers(store, ids)).get(customer_id, []),
        "campaigns": (await repo.campaigns_by_customer(store, ids)).get(customer_id, []),
    }


def _amounts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their amounts (an account's balance, a transaction's amount) as the API
    gives them: decimal strings with the row currency's places, never floats."""
    return [
        {k: money(v, row.get("currency")) if k in MONEY_FIELDS else v for k, v in row.items()}
        for row in rows
    ]


def access_history(log: AuditSink, customer_id: str) -> list[dict[str, Any]]:
    """Each audited request that touched the customer: who, when, purpose, which fields."""
    out = []
    for record in log.read(customer=customer_id):
        fields = (record.get("fields") or {}).get(customer_id) or {}
        out.append(
            {
                "seq": record["seq"],
                "time": record.get("time"),
                "subject": record.get("subject"),
                "roles": record.get("roles", []),
                "purpose": record.get("purpose"),
                "operation": record.get("operation"),
                "outcome": record.get("outcome"),
                "revealed": fields.get("revealed", []),
                "masked": fields.get("masked", []),
            }
        )
    return out


async def export_customer(
    store: GraphStore, log: AuditSink, customer_id: str
) -> dict[str, Any] | None:
    held = await held_about(store, customer_id)
    if held is None:
        return None
    return {"customerId": customer_id, **held, "accessHistory": access_history(log, customer_id)}


__all__ = ["access_history", "export_customer", "held_about"]
