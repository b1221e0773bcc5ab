"""Account aggregate: accounts, ownership (OWNS{role}), transactions."""

from __future__ import annotations

from typing import LiteralString

from graph.repositories.customers import with_customer_keys
from graph.store import GraphStore, Row


async def upsert_accounts(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {type, product, balance, currency, openedAt, status}, customerId?}.
    A customerId makes that customer the OWNER, and the account's only one: an owner the
    export no longer names is unlinked (the export is the source of truth, as for a
    transaction's account; joint holders, imported as holdings, stay)."""
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:Account {id: r.id})
        SET a += r.props
        WITH a, r WHERE r.customerId IS NOT NULL
        MERGE (c:Customer {id: r.customerId}) ON CREATE SET c.idKey = r.customerKey
        MERGE (c)-[o:OWNS]->(a)
        SET o.role = 'OWNER'
        WITH a, r
        OPTIONAL MATCH (x:Customer)-[old:OWNS {role: 'OWNER'}]->(a) WHERE x.id <> r.customerId
        DELETE old
        WITH DISTINCT a
        RETURN count(a) AS owned
        """,
        {"rows": with_customer_keys(rows)},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


async def upsert_holdings(store: GraphStore, rows: list[Row]) -> int:
    """rows: {customerId, accountId, role: OWNER|JOINT}."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.customerId}) ON CREATE SET c.idKey = r.customerKey
        MERGE (a:Account {id: r.accountId})
        MERGE (c)-[o:OWNS]->(a)
        SET o.role = r.role
        RETURN count(o) AS n
        """,
        {"rows": with_customer_keys(rows)},
    )
    return int(result[0]["n"]) if result else 0


async def upsert_transactions(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, accountId, props: {amount, currency, time, channel, kind, description}}.
    A transaction is on one account: a row naming another account than the stored one moves
    it there (the export is the source of truth; a correction rebooks it)."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:Account {id: r.accountId})
        MERGE (t:Transaction {id: r.id})
        SET t += r.props, t.accountId = r.accountId
        MERGE (a)-[:HAS_TRANSACTION]->(t)
        WITH t, r
        OPTIONAL MATCH (x:Account)-[old:HAS_TRANSACTION]->(t) WHERE x.id <> r.accountId
        DELETE old
        WITH DISTINCT t
        RETURN count(t) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


# For rows an import's lookup found absent: CREATE under the account found by its index, the
# node set from one map built of list positions, costs the server ~14 µs a row against MERGE's
# ~27 (5 000-row batches, 300 000 transactions), and lists of values are cheaper to encode and
# parse than maps. The guard (no Transaction with that id yet) keeps the write idempotent in
# one query: FalkorDB runs a graph's writes one at a time, so a retried batch, or another
# import of the same ids, finds the nodes and skips them rather than duplicating them. A null
# value sets nothing, as upsert_transactions leaves a property it was not given.
TX_PROPS = ("amount", "currency", "time", "channel", "kind", "description")
_INSERT_TRANSACTIONS: LiteralString = """
UNWIND $rows AS r
MATCH (a:Account {id: r[1]})
OPTIONAL MATCH (old:Transaction {id: r[0]})
WITH a, r WHERE old IS NULL
CREATE (a)-[:HAS_TRANSACTION]->(t:Transaction)
SET t = {id: r[0], accountId: r[1], amount: r[2], currency: r[3], time: r[4], channel: r[5],
         kind: r[6], description: r[7]}
RETURN count(t) AS n
"""
_TX_PROPS = frozenset(TX_PROPS)


async def insert_transactions(store: GraphStore, rows: list[Row]) -> int:
    """Rows like upsert_transactions' whose ids the graph did not hold when looked up. Rows
    that meet an existing transaction or no account are upserted instead (so the values given
    always land, as with upsert_transactions); returns len(rows)."""
    if any(not r["props"].keys() <= _TX_PROPS for r in rows):
        return await upsert_transactions(store, rows)  # a property this form does not name
    params = [[r["id"], r["accountId"], *map(r["props"].get, TX_PROPS)] for r in rows]
    result = await store.write(_INSERT_TRANSACTIONS, {"rows": params})
    created = int(result[0]["n"]) if result else 0
    if created != len(rows):
        # Rare (a concurrent writer, a retried write that had landed, --create-missing): the
        # idempotent MERGE settles every row of the batch.
        await upsert_transactions(store, rows)
    return len(rows)
