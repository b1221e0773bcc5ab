"""Household aggregate: households and MEMBER_OF{role}."""

from __future__ import annotations

from graph.store import GraphStore, Row


async def upsert_households(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {name?, address?}, customerId?, role?}: a household and one member."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (h:Household {id: r.id})
        SET h += r.props
        WITH h, r
        CALL {
            WITH h, r
            WITH h, r WHERE r.customerId IS NOT NULL
            MERGE (c:Customer {id: r.customerId})
            MERGE (c)-[m:MEMBER_OF]->(h)
            SET m.role = coalesce(r.role, 'MEMBER')
            RETURN count(*) AS joined
        }
        RETURN count(h) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0
