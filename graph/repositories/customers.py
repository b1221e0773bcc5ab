"""Customer aggregate: profile, consents, advisor, household membership, relations."""

from __future__ import annotations

from graph.fieldcipher import CUSTOMER, cipher_of
from graph.store import GraphStore, Row


def seal_customer_rows(store: GraphStore, rows: list[Row]) -> list[Row]:
    """The rows with their personal props encrypted and blind-indexed (see graph.fieldcipher):
    every write of customer props goes through here, so no plain value reaches the graph log."""
    sealed = cipher_of(store).seal_many(CUSTOMER, [(r["id"], r.get("props") or {}) for r in rows])
    return [{**r, "props": p} for r, p in zip(rows, sealed, strict=True)]


async def upsert_customers(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {...}, advisorId?}. Idempotent; a changed advisor replaces the old."""
    rows = seal_customer_rows(store, rows)
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.id})
        SET c += r.props
        WITH c, r WHERE r.advisorId IS NOT NULL
        OPTIONAL MATCH (c)-[old:MANAGED_BY]->(x:Advisor) WHERE x.id <> r.advisorId
        DELETE old
        WITH DISTINCT c, r
        MERGE (a:Advisor {id: r.advisorId})
        MERGE (c)-[:MANAGED_BY]->(a)
        RETURN count(c) AS linked
        """,
        {"rows": rows},
    )
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


async def link_related(store: GraphStore, rows: list[Row]) -> int:
    """rows: {fromId, toId, kind} -> (Customer)-[:RELATED_TO{kind}]->(Customer)."""
    result = await store.write(
        """
        UNWIND $rows AS r
        MATCH (a:Customer {id: r.fromId}), (b:Customer {id: r.toId})
        MERGE (a)-[rel:RELATED_TO {kind: r.kind}]->(b)
        RETURN count(rel) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def existing_customer_ids(store: GraphStore, ids: list[str]) -> set[str]:
    rows = await store.read(
        "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN c.id AS id", {"ids": ids}
    )
    return {r["id"] for r in rows}


def case_variants(customer_id: str) -> list[str]:
    """The spellings of ``customer_id`` a case slip makes (all upper, all lower, case-folded,
    first letter capital, case swapped), ``customer_id`` first: each an exact lookup of the
    indexed ``Customer.id``, no scan. A twin of other mixed case (``Ab-cD`` for ``aB-Cd``) is
    not among them (README, Known gaps)."""
    spellings = (
        customer_id.upper(),
        customer_id.lower(),
        customer_id.casefold(),
        customer_id.capitalize(),
        customer_id.swapcase(),
    )
    return list(dict.fromkeys((customer_id, *spellings)))


async def case_twins(store: GraphStore, ids: list[str]) -> dict[str, str]:
    """For each of ``ids`` not stored itself, the stored customer id that differs from it
    only by case (one of its :func:`case_variants`): writing it would make a second customer
    (``c000031`` next to ``C000031``). One read for all of ``ids``."""
    wanted = {cid: case_variants(cid) for cid in dict.fromkeys(ids)}
    stored = await existing_customer_ids(
        store, list(dict.fromkeys(v for variants in wanted.values() for v in variants))
    )
    twins: dict[str, str] = {}
    for cid, variants in wanted.items():
        if cid in stored:
            continue
        folded = cid.casefold()
        if same := sorted(v for v in variants if v in stored and v.casefold() == folded):
            twins[cid] = same[0]
    return twins
