"""Interaction aggregate: calls, chats, complaints, surveys, and what they were ABOUT."""

from __future__ import annotations

from graph.fieldcipher import INTERACTION, seal_rows
from graph.repositories.customers import with_customer_keys
from graph.store import GraphStore, Row


async def upsert_interactions(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, customerId, productCode?, props: {channel, kind, time, summary,
    satisfaction, resolved}}. The summary (notes about the customer) is sealed under the
    customer's data key: erasing the customer shreds it. An interaction is one customer's: a
    row naming another customer than the stored one moves it there (the export is the source
    of truth), with its summary sealed under the new customer's key."""
    rows = with_customer_keys(seal_rows(store, INTERACTION, rows, owner="customerId"))
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.customerId}) ON CREATE SET c.idKey = r.customerKey
        MERGE (i:Interaction {id: r.id})
        SET i += r.props, i.customerId = r.customerId
        MERGE (c)-[:HAD]->(i)
        WITH i, r
        OPTIONAL MATCH (x:Customer)-[old:HAD]->(i) WHERE x.id <> r.customerId
        DELETE old
        WITH DISTINCT i, r
        WITH i, r WHERE r.productCode IS NOT NULL
        MERGE (p:Product {code: r.productCode})
        MERGE (i)-[:ABOUT]->(p)
        RETURN count(i) AS about
        """,
        {"rows": rows},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


async def interaction_owners(store: GraphStore, ids: list[str]) -> dict[str, str]:
    """The customer each stored interaction of ``ids`` belongs to."""
    rows = await store.read(
        "UNWIND $ids AS id MATCH (i:Interaction {id: id}) RETURN i.id AS id, i.customerId AS c",
        {"ids": ids},
    )
    return {r["id"]: r["c"] for r in rows}
