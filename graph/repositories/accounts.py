"""Account aggregate: accounts, ownership (OWNS{role}), transactions."""

from __future__ import annotations

from graph.store import GraphStore, Row


async def upsert_accounts(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {type, product, balance, currency, openedAt, status}, customerId?}.
    A customerId makes that customer the OWNER."""
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:Account {id: r.id})
        SET a += r.props
        WITH a, r WHERE r.customerId IS NOT NULL
        MERGE (c:Customer {id: r.customerId})
        MERGE (c)-[o:OWNS]->(a)
        SET o.role = 'OWNER'
        RETURN count(a) AS owned
        """,
        {"rows": rows},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


async def upsert_holdings(store: GraphStore, rows: list[Row]) -> int:
    """rows: {customerId, accountId, role: OWNER|JOINT}."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.customerId})
        MERGE (a:Account {id: r.accountId})
        MERGE (c)-[o:OWNS]->(a)
        SET o.role = r.role
        RETURN count(o) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def upsert_transactions(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, accountId, props: {amount, currency, time, channel, kind, description}}."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:Account {id: r.accountId})
        MERGE (t:Transaction {id: r.id})
        SET t += r.props, t.accountId = r.accountId
        MERGE (a)-[:HAS_TRANSACTION]->(t)
        RETURN count(t) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0
