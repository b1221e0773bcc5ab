"""Advisor and Branch aggregate, and the Product catalogue."""

from __future__ import annotations

from graph.fieldcipher import ADVISOR, seal_rows
from graph.store import GraphStore, Row


async def upsert_advisors(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {name, phone?, email?, title?}, branchId?, branch: {name, city}?}.
    Name, phone and e-mail are sealed under the advisor's own data key."""
    rows = seal_rows(store, ADVISOR, rows)
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (a:Advisor {id: r.id})
        SET a += r.props
        WITH a, r WHERE r.branchId IS NOT NULL
        OPTIONAL MATCH (a)-[old:WORKS_AT]->(x:Branch) WHERE x.id <> r.branchId
        DELETE old
        WITH DISTINCT a, r
        MERGE (b:Branch {id: r.branchId})
        SET b += coalesce(r.branch, {})
        MERGE (a)-[:WORKS_AT]->(b)
        RETURN count(a) AS works
        """,
        {"rows": rows},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


async def upsert_products(store: GraphStore, rows: list[Row]) -> int:
    """rows: {code, props: {name, category}}."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (p:Product {code: r.code})
        SET p += r.props
        RETURN count(p) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0
