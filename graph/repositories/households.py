"""Household aggregate: households and MEMBER_OF{role}."""

from __future__ import annotations

from graph.fieldcipher import HOUSEHOLD, cipher_of
from graph.repositories.customers import with_customer_keys
from graph.store import GraphStore, Row


async def upsert_households(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {name?, address?}, customerId?, role?}: a household and one member."""
    # The household is named after its head and shares their address: sealed like theirs.
    sealed = cipher_of(store).seal_many(HOUSEHOLD, [(r["id"], r.get("props") or {}) for r in rows])
    rows = with_customer_keys([{**r, "props": p} for r, p in zip(rows, sealed, strict=True)])
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (h:Household {id: r.id})
        SET h += r.props
        WITH h, r WHERE r.customerId IS NOT NULL
        MERGE (c:Customer {id: r.customerId}) ON CREATE SET c.idKey = r.customerKey
        MERGE (c)-[m:MEMBER_OF]->(h)
        SET m.role = coalesce(r.role, 'MEMBER')
        RETURN count(h) AS joined
        """,
        {"rows": rows},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)
