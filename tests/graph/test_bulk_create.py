"""Rows created as new (graph/repositories/bulk_create.py) are the rows the idempotent upserts
write: same nodes, same properties, same edges."""

from __future__ import annotations

from graph.fieldcipher import INTERACTION, open_items
from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.advisors import upsert_products
from graph.repositories.bulk_create import (
    create_accounts,
    create_interactions,
    create_transactions,
)
from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
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


async def _nodes(store: GraphStore, query: str, prefix: str) -> list[dict[str, object]]:
    rows = await store.read(query, {"p": prefix})
    return [{**r, "id": str(r["id"])[1:]} for r in rows]


async def test_created_accounts_and_interactions_equal_upserted_ones(store: GraphStore) -> None:
    await upsert_products(store, [{"code": "SAV", "props": {"name": "活期"}}])
    await upsert_customers(store, [{"id": "K1", "props": {"name": "李四"}}])
    accounts = [
        {
            "id": f"{p}acc{n}",
            "customerId": "K1",
            "props": {
                "type": "SAVINGS", "product": "SAV", "balance": 10.0 * n, "currency": "CNY",
                "openedAt": "2020-01-01T00:00:00Z", "status": "CLOSED" if n else "ACTIVE",
                **({"closedAt": "2021-01-01T00:00:00Z"} if n else {}),
            },
        }
        for p in "CU" for n in range(2)
    ]  # fmt: skip
    assert await create_accounts(store, [a for a in accounts if a["id"][0] == "C"]) == 2
    await upsert_accounts(store, [a for a in accounts if a["id"][0] == "U"])
    query = (
        "MATCH (c:Customer)-[o:OWNS]->(a:Account) WHERE a.id STARTS WITH $p "
        "RETURN a.id AS id, c.id AS owner, o.role AS role, a {.*, id: null} AS a ORDER BY id"
    )
    assert await _nodes(store, query, "C") == await _nodes(store, query, "U")
    interactions = [
        {
            "id": f"{p}int{n}",
            "customerId": "K1",
            **({"productCode": "SAV"} if n else {}),
            "props": {
                "channel": "APP", "kind": "SURVEY", "time": "2024-01-01T00:00:00Z",
                "summary": "满意度调查", "resolved": True, "satisfaction": 4 if n else None,
            },
        }
        for p in "CU" for n in range(2)
    ]  # fmt: skip
    assert await create_interactions(store, [i for i in interactions if i["id"][0] == "C"]) == 2
    await upsert_interactions(store, [i for i in interactions if i["id"][0] == "U"])
    query = (
        "MATCH (c:Customer)-[:HAD]->(i:Interaction) WHERE i.id STARTS WITH $p "
        "RETURN i.id AS id, c.id AS owner, i {.*, id: null} AS i, "
        "[(i)-[:ABOUT]->(p:Product) | p.code] AS about ORDER BY id"
    )
    created, upserted = await _nodes(store, query, "C"), await _nodes(store, query, "U")
    for rows in (created, upserted):  # a store with a cipher seals each summary afresh
        opened = open_items(store, INTERACTION, [("K1", r["i"]) for r in rows])
        for r, props in zip(rows, opened, strict=True):
            r["i"] = props
    assert created == upserted
    assert created[0]["i"]["summary"] == "满意度调查"
    assert created[1]["about"] == ["SAV"] and created[0]["about"] == []
