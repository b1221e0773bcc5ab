"""Customer aggregate: profile, consents, advisor, household membership, relations."""

from __future__ import annotations

from typing import LiteralString

from graph.fieldcipher import CUSTOMER, cipher_of
from graph.property_removal import remove_each
from graph.store import GraphStore, Row, id_windows
from shared.records import CustomerRecord
from shared.validators import id_key

# The customer's id case-folded (shared.validators.id_key), indexed (graph.store
# LOOKUP_INDEXES): how a new id is found to differ from a stored one only by case
# (:func:`case_twins`). Written with every customer write, filled in for customers stored
# before it existed by :func:`backfill_id_keys` (every open of the graph).
ID_KEY = "idKey"


def seal_customer_rows(store: GraphStore, rows: list[Row]) -> list[Row]:
    """The rows with their personal props encrypted and blind-indexed (see graph.fieldcipher)
    and the id's case-folded key (``idKey``) added: every write of customer props goes
    through here (upserts, the bulk demo seed), so no plain value reaches the graph log and
    no customer lacks the key its case twins are looked up by."""
    sealed = cipher_of(store).seal_many(CUSTOMER, [(r["id"], r.get("props") or {}) for r in rows])
    return [
        {**r, "props": {**p, ID_KEY: id_key(r["id"])}} for r, p in zip(rows, sealed, strict=True)
    ]


def with_customer_keys(rows: list[Row]) -> list[Row]:
    """Rows naming a ``customerId`` with its ``customerKey`` (the id's ``idKey``) added, for
    the writes that MERGE a bare customer (an import's --create-missing: ``ON CREATE SET
    c.idKey = r.customerKey``)."""
    return [
        {**r, "customerKey": id_key(r["customerId"])} if r.get("customerId") is not None else r
        for r in rows
    ]


# The customer fields a write clears when given as None (upsertCustomer: null or blank text):
# a value the CRM removed goes from the record. Not the consents (what policies decide on: a
# consent is withdrawn with false; the advisor is a link, not a prop), nor the record's dates.
CLEARABLE = tuple(
    p
    for p in CustomerRecord.PROPS
    if p not in ("createdAt", "consentMarketing", "consentDataSharing", "consentUpdatedAt")
)
# With the lookup props that sealing adds for them (graph.fieldcipher: blind indexes, name
# tokens), which go with their value: first, so a write cut short leaves a value no search
# finds rather than a search that finds a removed value.
CLEARABLE_PROPS = ("nameTok", "idNumberBidx", "phoneBidx", "emailBidx", *CLEARABLE)


async def upsert_customers(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, props: {...}, advisorId?, createdIfNew?}. Idempotent; a changed advisor
    replaces the old; ``createdIfNew``: the createdAt of a customer this write creates (an
    existing one keeps theirs; props' own createdAt wins). A prop given as None is removed,
    with its lookup props (:data:`CLEARABLE_PROPS` only)."""
    rows = [_split_clears(r) for r in seal_customer_rows(store, rows)]
    await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.id})
        ON CREATE SET c.createdAt = r.createdIfNew
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
    await _remove_clears(store, rows)
    # Rows without the optional link are filtered out before RETURN: every row was upserted.
    return len(rows)


def _split_clears(row: Row) -> Row:
    """The row with its None props moved to ``clears`` (removed by :func:`_remove_clears`)."""
    props = row.get("props") or {}
    clears = [k for k, v in props.items() if v is None]
    if not clears:
        return row
    if unknown := sorted(set(clears) - set(CLEARABLE_PROPS)):
        raise ValueError(f"a customer write cannot clear {', '.join(unknown)}")
    return {**row, "props": {k: v for k, v in props.items() if v is not None}, "clears": clears}


async def _remove_clears(store: GraphStore, rows: list[Row]) -> None:
    """Removes the rows' ``clears``, one prop per write (graph/property_removal.py: clearing
    email and phone at once removed nameTok and kept emailBidx)."""
    if not any("clears" in r for r in rows):
        return  # an import's rows never clear
    await remove_each(
        store,
        "MATCH (n:Customer {id: k})",
        {p: [r["id"] for r in rows if p in r.get("clears", ())] for p in CLEARABLE_PROPS},
    )


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


async def case_twins(store: GraphStore, ids: list[str]) -> dict[str, str]:
    """For each of ``ids`` not stored itself, the stored customer id that differs from it
    only by case (the first in order when several do): writing it would make a second
    customer (``c000031`` next to ``C000031``, ``Ab-cD`` next to ``aB-Cd``). One read for all
    of ``ids``, exact lookups of the indexed ``idKey``, no scan."""
    wanted = list(dict.fromkeys(ids))
    keys = list(dict.fromkeys(id_key(cid) for cid in wanted))
    rows = await store.read(
        "UNWIND $keys AS k MATCH (c:Customer {idKey: k}) RETURN k, c.id AS id", {"keys": keys}
    )
    spelled: dict[str, list[str]] = {}
    for r in rows:
        spelled.setdefault(r["k"], []).append(str(r["id"]))
    twins: dict[str, str] = {}
    for cid in wanted:
        stored = spelled.get(id_key(cid))
        if stored and cid not in stored:
            twins[cid] = min(stored)
    return twins


ID_KEY_BATCH = 5000
# What graph.connect.run_upgrades records once backfill_id_keys ran (1: every customer has an
# idKey); bumped when it must run again.
ID_KEYS_VERSION = 1


async def backfill_id_keys(store: GraphStore) -> int:
    """Writes ``idKey`` on customers stored without it (a graph an older c360 wrote, a copy
    from elsewhere), so that :func:`case_twins` finds them; returns how many. Read in windows
    of node ids (graph.store.id_windows); nothing is written when none lacks it."""
    done = 0
    top: LiteralString = "MATCH (c:Customer) RETURN max(id(c)) AS top"
    async for lo, hi in id_windows(store, top, ID_KEY_BATCH):
        rows = await store.read(
            """
            MATCH (c:Customer) WHERE id(c) >= $lo AND id(c) < $hi
              AND c.idKey IS NULL AND c.id IS NOT NULL
            RETURN c.id AS id
            """,
            {"lo": lo, "hi": hi},
        )
        if rows:
            await store.write(
                "UNWIND $rows AS r MATCH (c:Customer {id: r.id}) SET c.idKey = r.key",
                {"rows": [{"id": r["id"], "key": id_key(str(r["id"]))} for r in rows]},
            )
            done += len(rows)
    return done
