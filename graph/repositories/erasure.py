"""Removing one customer from the graph (the graph half of an erasure; privacy.erasure
destroys the keys). One round trip to learn what is held, one to delete it."""

from __future__ import annotations

from typing import LiteralString, NamedTuple

from graph.repositories.reseal import SEALED_PREFIX
from graph.store import GraphStore, Row


class Leftovers(NamedTuple):
    """What :func:`delete_leftovers` removed."""

    notes: dict[str, int]  # interactions, per customer id
    households: frozenset[str]  # ids
    display_names: frozenset[str]  # of these social accounts ("platform:handle")


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
    member of. Accounts and transactions stay (retention of financial records), unlinked,
    without the booking texts (``description``: free text that may name them) of every
    account they owned, co-owned ones included. A household they leave to others loses its
    name and address (the head's surname + 家, their address) when they were its head, or
    it has none (then it is named after its first member, who may have been them)."""
    await store.write(
        """
        MATCH (c:Customer {id: $id})
        OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
        DETACH DELETE i
        WITH DISTINCT c
        OPTIONAL MATCH (c)-[:OWNS]->(:Account)-[:HAS_TRANSACTION]->(t:Transaction)
        WHERE t.description IS NOT NULL
        SET t.description = NULL
        WITH DISTINCT c
        OPTIONAL MATCH (c)-[m:MEMBER_OF]->(kept:Household)
        WHERE NOT kept.id IN $households
          AND (m.role = 'HEAD' OR NOT ()-[:MEMBER_OF {role: 'HEAD'}]->(kept))
        SET kept.name = NULL, kept.address = NULL
        WITH DISTINCT c
        OPTIONAL MATCH (h:Household) WHERE h.id IN $households
        DETACH DELETE h
        WITH DISTINCT c
        DETACH DELETE c
        RETURN 1 AS done
        """,
        {"id": customer_id, "households": households},
    )


# What erasing a customer can leave (:func:`delete_leftovers`), each removed among $ids.
# Interactions naming one of the customers that no HAD edge reaches: {customer, n}.
_LOOSE_NOTES = """
    MATCH (i:Interaction) WHERE i.customerId IN $ids AND NOT ()-[:HAD]->(i)
    WITH i, i.customerId AS c
    DETACH DELETE i
    RETURN c AS customer, count(c) AS n
"""
# Households no member is left in: {id}.
_EMPTY_HOUSEHOLDS = """
    MATCH (h:Household) WHERE h.id IN $ids AND NOT ()-[:MEMBER_OF]->(h)
    WITH h, h.id AS id
    DETACH DELETE h
    RETURN id
"""
# Display names of social accounts ("platform:handle") not sealed: {id}.
_PLAIN_NAMES = """
    MATCH (a:SocialAccount) WHERE (a.platform + ':' + a.handle) IN $ids
      AND a.name IS NOT NULL AND NOT toString(a.name) STARTS WITH $sealed
    REMOVE a.name
    RETURN a.platform + ':' + a.handle AS id
"""


async def delete_leftovers(
    store: GraphStore, customers: list[str], households: list[str], social_accounts: list[str]
) -> Leftovers:
    """What erasing ``customers`` leaves when their node is gone or never held it: the
    interactions naming one of them (``customerId``) that no HAD edge reaches (notes written
    so, or by a version before HAD edges; ``delete_customer`` follows the edges only), the
    ``households`` (erased with them) no member is left in, and the display names of
    ``social_accounts`` ("platform:handle", erased with them) still plain (written before
    sealing: destroying the key leaves them readable). Removed; what was. One scan of the
    interactions for all of ``customers`` (no index on ``customerId``)."""

    async def removed(query: LiteralString, ids: list[str]) -> list[Row]:
        return await store.write(query, {"ids": ids, "sealed": SEALED_PREFIX}) if ids else []

    notes = await removed(_LOOSE_NOTES, customers)
    gone = await removed(_EMPTY_HOUSEHOLDS, households)
    names = await removed(_PLAIN_NAMES, social_accounts)
    return Leftovers(
        {str(r["customer"]): int(r["n"]) for r in notes},
        frozenset(str(r["id"]) for r in gone),
        frozenset(str(r["id"]) for r in names),
    )


__all__ = ["Leftovers", "customer_footprint", "delete_customer", "delete_leftovers"]
