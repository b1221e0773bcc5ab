"""Removing one customer from the graph (the graph half of an erasure; privacy.erasure
destroys the keys). One round trip to learn what is held, one to delete it."""

from __future__ import annotations

from graph.store import GraphStore, Row


async def customer_footprint(store: GraphStore, customer_id: str) -> Row | None:
    """What the graph holds about the customer, as names and ids only (never values):
    ``fields`` (property names), ``households`` (and whether the customer is their last
    member), ``interactions``, ``accounts``, ``socialAccounts``, ``related``."""
    rows = await store.read(
        """
        MATCH (c:Customer {id: $id})
        OPTIONAL MATCH (c)-[:MEMBER_OF]->(h:Household)
        OPTIONAL MATCH (o:Customer)-[:MEMBER_OF]->(h) WHERE o <> c
        WITH c, h, count(o) AS others
        // Not a comprehension inside a comprehension: FalkorDB answered null for "last".
        WITH c, collect(CASE WHEN h IS NULL THEN null ELSE {id: h.id, last: others = 0} END)
               AS households
        RETURN keys(c) AS fields, households,
               [(c)-[:HAD]->(i:Interaction) | i.id] AS interactions,
               [(c)-[:OWNS]->(a:Account) | a.id] AS accounts,
               [(c)-[:HAS_SOCIAL]->(s:SocialAccount) | s.platform + ':' + s.handle]
                 AS socialAccounts,
               [(c)-[:RELATED_TO]-(o:Customer) | o.id] AS related
        """,
        {"id": customer_id},
    )
    return rows[0] if rows else None


async def delete_customer(store: GraphStore, customer_id: str, households: list[str]) -> None:
    """Delete the customer node with every link (blind-index properties go with it), their
    interactions (free-text notes about them), and the ``households`` they were the last
    member of. Accounts and transactions stay (retention of financial records), unlinked."""
    await store.write(
        """
        MATCH (c:Customer {id: $id})
        OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
        DETACH DELETE i
        WITH DISTINCT c
        OPTIONAL MATCH (h:Household) WHERE h.id IN $households
        DETACH DELETE h
        WITH DISTINCT c
        DETACH DELETE c
        RETURN 1 AS done
        """,
        {"id": customer_id, "households": households},
    )


__all__ = ["customer_footprint", "delete_customer"]
