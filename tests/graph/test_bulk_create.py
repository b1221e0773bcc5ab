"""Rows created as new (graph/repositories/bulk_create.py) are the rows the idempotent upserts
write: same nodes, same properties, same edges."""

from __future__ import annotations

from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.bulk_create import create_transactions
from graph.store import GraphStore

ACCOUNTS = [{"id": f"A{n}", "props": {"type": "SAVINGS", "balance": 1.0}} for n in range(3)]


def _transactions(prefix: str) -> list[dict[str, object]]:
    return [
        {
            "id": f"{prefix}{n}",
            "accountId": f"A{n % 3}",
            "props": {
                "amount": 10.5 * n,
                "currency": "CNY",
                "time": f"2024-01-{n + 1:02d}T00:00:00Z",
                "channel": "MOBILE",
                "kind": "PAYMENT",
                "description": None if n == 4 else f"商户{n}",
            },
        }
        for n in range(7)
    ]


async def _stored(store: GraphStore, prefix: str) -> list[tuple[str, dict[str, object]]]:
    rows = await store.read(
        "MATCH (a:Account)-[:HAS_TRANSACTION]->(t:Transaction) WHERE t.id STARTS WITH $p "
        "RETURN a.id AS account, t {.*} AS t ORDER BY t.id",
        {"p": prefix},
    )
    return [(r["account"], {**r["t"], "id": r["t"]["id"][1:]}) for r in rows]


async def test_created_transactions_equal_upserted_ones(store: GraphStore) -> None:
    await upsert_accounts(store, ACCOUNTS)
    assert await create_transactions(store, _transactions("C")) == 7
    await upsert_transactions(store, _transactions("U"))
    created, upserted = await _stored(store, "C"), await _stored(store, "U")
    assert len(created) == 7
    assert created == upserted
    assert "description" not in created[4][1]  # None: not stored, like SET +=


async def test_a_missing_account_creates_nothing_for_it(store: GraphStore) -> None:
    await upsert_accounts(store, ACCOUNTS[:1])
    assert await create_transactions(store, _transactions("M")) == 3  # A0's only
