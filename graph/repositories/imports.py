"""What a CRM import batch finds in the graph before it writes: the stored state of each row's
node (or relationship) and which of its parents are missing.

Every lookup takes the batch's graph rows and returns one :data:`Found` per row, in order:
``{"exists": bool, "props": {...}, "links": [...], "missing": ["accountId", ...]}`` (and
``"unreadable": [field, ...]`` for sealed fields stored but not opened). ``links``
holds the stored value of the row's link (advisor id, owner id, member role, ...), so the
importer can tell inserted from updated from unchanged without writing; ``missing`` names the
parent keys that match no node (a transaction's account, a holding's customer or account, a
household member's, an account owner's, an interaction's or a social handle's customer, a
customer's advisor). One read round trip per batch (the parent reads run beside it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, LiteralString

from graph.fieldcipher import ADVISOR, CUSTOMER, HOUSEHOLD, INTERACTION, cipher_of
from graph.store import GraphStore, Params, Row

Found = Row
Lookup = Callable[[GraphStore, list[Row]], Awaitable[list[Found]]]

_CUSTOMERS: LiteralString = """
UNWIND $ids AS id
MATCH (n:Customer {id: id})
RETURN id AS key, true AS exists, properties(n) AS props,
       [(n)-[:MANAGED_BY]->(a:Advisor) | a.id] AS links,
       [] AS missing
"""

_ACCOUNTS: LiteralString = """
UNWIND $ids AS id
MATCH (n:Account {id: id})
RETURN id AS key, true AS exists, properties(n) AS props,
       [(c:Customer)-[o:OWNS]->(n) WHERE o.role = 'OWNER' | c.id] AS links,
       [] AS missing
"""

_HOLDINGS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (c:Customer {id: r.customerId})
OPTIONAL MATCH (a:Account {id: r.accountId})
OPTIONAL MATCH (c)-[o:OWNS]->(a)
WITH r, c, a, o WHERE o IS NOT NULL OR c IS NULL OR a IS NULL
RETURN r.i AS i, o IS NOT NULL AS exists, {} AS props,
       CASE WHEN o IS NULL THEN [] ELSE [o.role] END AS links,
       CASE WHEN c IS NULL THEN ['customerId'] ELSE [] END
         + CASE WHEN a IS NULL THEN ['accountId'] ELSE [] END AS missing
"""

_HOUSEHOLDS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (n:Household {id: r.id})
OPTIONAL MATCH (c:Customer {id: r.customerId})
OPTIONAL MATCH (c)-[m:MEMBER_OF]->(n)
WITH r, n, c, m WHERE n IS NOT NULL OR (r.customerId IS NOT NULL AND c IS NULL)
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN m IS NULL THEN [] ELSE [m.role] END AS links,
       CASE WHEN r.customerId IS NOT NULL AND c IS NULL THEN ['customerId'] ELSE [] END
         AS missing
"""

_TRANSACTIONS: LiteralString = """
UNWIND $ids AS id
MATCH (n:Transaction {id: id})
RETURN id AS key, true AS exists, properties(n) AS props, [n.accountId] AS links,
       [] AS missing
"""

# Parents are checked once per batch over their distinct ids (many rows share an account),
# beside the row lookup: two OPTIONAL MATCHes per row cost about twice these two reads.
_ACCOUNT_IDS: LiteralString = "UNWIND $ids AS id MATCH (a:Account {id: id}) RETURN id"
_CUSTOMER_IDS: LiteralString = "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN id"
_ADVISOR_IDS: LiteralString = "UNWIND $ids AS id MATCH (a:Advisor {id: id}) RETURN id"

# A confirmed handle: ``links``, the customers it is linked to now (``exists``: the row's
# among them; another one makes the row a conflict, ingest/social/accounts.py), or its
# customer missing (link_social_accounts links only existing customers, so a missing one
# would otherwise link nothing, silently).
_SOCIAL_ACCOUNTS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (c:Customer {id: r.customerId})
OPTIONAL MATCH (o:Customer)-[:HAS_SOCIAL]->(:SocialAccount {platform: r.platform,
                                                           handle: r.handle})
WITH r, c, collect(o.id) AS owners
WITH r, c, owners WHERE c IS NULL OR size(owners) > 0
RETURN r.i AS i, r.customerId IN owners AS exists, {} AS props, owners AS links,
       CASE WHEN c IS NULL THEN ['customerId'] ELSE [] END AS missing
"""

_INTERACTIONS: LiteralString = """
UNWIND $ids AS id
MATCH (n:Interaction {id: id})
RETURN id AS key, true AS exists, properties(n) AS props,
       [(n)-[:ABOUT]->(p:Product) | p.code] AS links,
       [] AS missing
"""

_ADVISORS: LiteralString = """
UNWIND $ids AS id
MATCH (n:Advisor {id: id})
RETURN id AS key, true AS exists, properties(n) AS props,
       [(n)-[:WORKS_AT]->(b:Branch) | b.id] AS links,
       [] AS missing
"""

# The keys each lookup needs from a graph row (everything else stays in Python).
_KEYS: dict[LiteralString, tuple[str, ...]] = {
    _CUSTOMERS: ("id",),
    _ACCOUNTS: ("id",),
    _HOLDINGS: ("customerId", "accountId"),
    _HOUSEHOLDS: ("id", "customerId"),
    _TRANSACTIONS: ("id",),
    _INTERACTIONS: ("id",),
    _ADVISORS: ("id",),
    _SOCIAL_ACCOUNTS: ("customerId", "platform", "handle"),
}


_NEW: Found = {"exists": False, "props": {}, "links": [], "missing": []}

# Parent ids an import has found present, per row field, for the rest of that import: 1M
# transactions over 100k accounts read each account once instead of once per batch (~2 µs of
# server time a row). Set by the importer for one run (None: every batch reads). A parent
# deleted by someone else meanwhile is a race the write settles as before (its MERGE).
KNOWN_PARENTS: ContextVar[dict[str, set[Any]] | None] = ContextVar("known_parents", default=None)
KNOWN_PARENTS_MAX = 1_000_000  # ids kept per field before starting over


def _lookup(
    query: LiteralString,
    sealed: str | None = None,
    parents: dict[str, LiteralString] | None = None,
    owner: str = "id",
) -> Lookup:
    """``sealed``: the cipher scope of the label whose personal props are stored encrypted,
    so that inserted / updated / unchanged are judged on the plain values; ``owner``: the key
    naming the data key's owner (an interaction's customer): the stored node's property of
    that name, the row's when the node has none. ``parents``: row field -> a query returning
    which of ``$ids`` exist (one read per batch and field)."""
    keys = _KEYS[query]
    checks = parents or {}

    async def present(store: GraphStore, field: str, rows: list[Row]) -> set[Any]:
        known = KNOWN_PARENTS.get()
        seen = known.setdefault(field, set()) if known is not None else set()
        wanted = {row[field] for row in rows if row.get(field) is not None}
        ids = list(wanted - seen)
        found = await store.read(checks[field], {"ids": ids}) if ids else []
        got = {r["id"] for r in found}
        if known is not None:
            if len(seen) + len(got) > KNOWN_PARENTS_MAX:
                seen.clear()
            seen |= got
        return got | (wanted & seen)

    async def lookup(store: GraphStore, rows: list[Row]) -> list[Found]:
        if not rows:
            return []
        by_id = keys == ("id",)
        if by_id:
            # A list of distinct ids: a third of the parameter text of {i, id} maps to build
            # and parse. (Not $ids[i] over a range: FalkorDB copies the list for each access.)
            params: Params = {"ids": list(dict.fromkeys(row["id"] for row in rows))}
        else:
            maps = [{"i": i, **{k: row.get(k) for k in keys}} for i, row in enumerate(rows)]
            params = {"rows": maps}
        found, *known = await asyncio.gather(
            store.read(query, params), *(present(store, f, rows) for f in checks)
        )
        # Only rows that exist or miss a parent come back: a fresh import reads almost nothing.
        ordered: list[Found] = [_NEW] * len(rows)
        if by_id:
            stored = {item.pop("key"): item for item in found}
            for i, row in enumerate(rows):
                if (item := stored.get(row["id"])) is not None:
                    ordered[i] = {**item, "missing": list(item["missing"])}
        else:
            for item in found:
                ordered[item.pop("i")] = item
        for field, ids in zip(checks, known, strict=True):
            for i, row in enumerate(rows):
                if row.get(field) is not None and row[field] not in ids:
                    item = ordered[i] if ordered[i] is not _NEW else {**_NEW, "missing": []}
                    item["missing"] = [*item.get("missing", []), field]
                    ordered[i] = item
        if sealed is not None:
            _open_stored(store, sealed, owner, rows, ordered)
        return ordered

    return lookup


def _open_stored(
    store: GraphStore, sealed: str, owner: str, rows: list[Row], ordered: list[Found]
) -> None:
    """Open the stored props of the rows that exist, in one batch, under the owner each value
    was sealed for: the stored node's (an interaction the row moves to another customer is
    still sealed under its old customer's key), the row's when the node names none. A field
    held but not opened (the owner's key is gone: erased) is listed in ``unreadable``."""
    existing = [(i, f) for i, f in enumerate(ordered) if f.get("exists")]
    items = [(str(f["props"].get(owner) or rows[i][owner]), f["props"]) for i, f in existing]
    opened = cipher_of(store).open_many(sealed, items)
    for (_, f), (_, stored), props in zip(existing, items, opened, strict=True):
        f["props"] = props
        lost = [k for k, v in props.items() if v is None and stored.get(k) is not None]
        if lost:
            f["unreadable"] = lost


def held(found: Found) -> set[str]:
    """The fields the graph holds for a row's node, opened or not: a sealed value whose key
    is gone reads as None but is still stored."""
    props = found.get("props") or {}
    return {k for k, v in props.items() if v is not None} | set(found.get("unreadable") or [])


lookup_customers = _lookup(_CUSTOMERS, CUSTOMER, parents={"advisorId": _ADVISOR_IDS})
lookup_accounts = _lookup(_ACCOUNTS, parents={"customerId": _CUSTOMER_IDS})
lookup_holdings = _lookup(_HOLDINGS)
lookup_households = _lookup(_HOUSEHOLDS, HOUSEHOLD)
lookup_transactions = _lookup(_TRANSACTIONS, parents={"accountId": _ACCOUNT_IDS})
lookup_interactions = _lookup(
    _INTERACTIONS, INTERACTION, parents={"customerId": _CUSTOMER_IDS}, owner="customerId"
)
lookup_advisors = _lookup(_ADVISORS, ADVISOR)
lookup_social_accounts = _lookup(_SOCIAL_ACCOUNTS)

__all__ = [
    "KNOWN_PARENTS",
    "Found",
    "Lookup",
    "held",
    "lookup_accounts",
    "lookup_advisors",
    "lookup_customers",
    "lookup_holdings",
    "lookup_households",
    "lookup_interactions",
    "lookup_social_accounts",
    "lookup_transactions",
]
