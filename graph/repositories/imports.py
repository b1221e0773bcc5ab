"""What a CRM import batch finds in the graph before it writes: the stored state of each row's
node (or relationship) and which of its parents are missing.

Every lookup takes the batch's graph rows and returns one :data:`Found` per row, in order:
``{"exists": bool, "props": {...}, "links": [...], "missing": ["accountId", ...]}``. ``links``
holds the stored value of the row's link (advisor id, owner id, member role, ...), so the
importer can tell inserted from updated from unchanged without writing; ``missing`` names the
parent keys that match no node (a transaction's account, a holding's customer or account, a
household member's customer). One read round trip per batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import LiteralString

from graph.fieldcipher import ADVISOR, CUSTOMER, HOUSEHOLD, INTERACTION, cipher_of
from graph.store import GraphStore, Row

Found = Row
Lookup = Callable[[GraphStore, list[Row]], Awaitable[list[Found]]]

_CUSTOMERS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (n:Customer {id: r.id})
WITH r, n WHERE n IS NOT NULL
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN n IS NULL THEN [] ELSE [(n)-[:MANAGED_BY]->(a:Advisor) | a.id] END AS links,
       [] AS missing
"""

_ACCOUNTS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (n:Account {id: r.id})
WITH r, n WHERE n IS NOT NULL
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN n IS NULL THEN []
            ELSE [(c:Customer)-[o:OWNS]->(n) WHERE o.role = 'OWNER' | c.id] END AS links,
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
UNWIND $rows AS r
OPTIONAL MATCH (n:Transaction {id: r.id})
OPTIONAL MATCH (a:Account {id: r.accountId})
WITH r, n, a WHERE n IS NOT NULL OR a IS NULL
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN n IS NULL THEN [] ELSE [n.accountId] END AS links,
       CASE WHEN a IS NULL THEN ['accountId'] ELSE [] END AS missing
"""

_INTERACTIONS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (n:Interaction {id: r.id})
WITH r, n WHERE n IS NOT NULL
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN n IS NULL THEN [] ELSE [(n)-[:ABOUT]->(p:Product) | p.code] END AS links,
       [] AS missing
"""

_ADVISORS: LiteralString = """
UNWIND $rows AS r
OPTIONAL MATCH (n:Advisor {id: r.id})
WITH r, n WHERE n IS NOT NULL
RETURN r.i AS i, n IS NOT NULL AS exists, coalesce(properties(n), {}) AS props,
       CASE WHEN n IS NULL THEN [] ELSE [(n)-[:WORKS_AT]->(b:Branch) | b.id] END AS links,
       [] AS missing
"""

# The keys each lookup needs from a graph row (everything else stays in Python).
_KEYS: dict[LiteralString, tuple[str, ...]] = {
    _CUSTOMERS: ("id",),
    _ACCOUNTS: ("id",),
    _HOLDINGS: ("customerId", "accountId"),
    _HOUSEHOLDS: ("id", "customerId"),
    _TRANSACTIONS: ("id", "accountId"),
    _INTERACTIONS: ("id",),
    _ADVISORS: ("id",),
}


_NEW: Found = {"exists": False, "props": {}, "links": [], "missing": []}


def _lookup(query: LiteralString, sealed: str | None = None, owner: str = "id") -> Lookup:
    """``sealed``: the cipher scope of the label whose personal props are stored encrypted,
    so that inserted / updated / unchanged are judged on the plain values; ``owner``: the row
    key naming the data key's owner (an interaction's customer)."""
    keys = _KEYS[query]

    async def lookup(store: GraphStore, rows: list[Row]) -> list[Found]:
        if not rows:
            return []
        params = [{"i": i, **{k: row.get(k) for k in keys}} for i, row in enumerate(rows)]
        found = await store.read(query, {"rows": params})
        # Only rows that exist or miss a parent come back: a fresh import reads almost nothing.
        ordered: list[Found] = [_NEW] * len(rows)
        for item in found:
            ordered[item.pop("i")] = item
        if sealed is not None:
            existing = [(rows[i][owner], f) for i, f in enumerate(ordered) if f.get("exists")]
            opened = cipher_of(store).open_many(sealed, [(k, f["props"]) for k, f in existing])
            for (_, f), props in zip(existing, opened, strict=True):
                f["props"] = props
        return ordered

    return lookup


lookup_customers = _lookup(_CUSTOMERS, CUSTOMER)
lookup_accounts = _lookup(_ACCOUNTS)
lookup_holdings = _lookup(_HOLDINGS)
lookup_households = _lookup(_HOUSEHOLDS, HOUSEHOLD)
lookup_transactions = _lookup(_TRANSACTIONS)
lookup_interactions = _lookup(_INTERACTIONS, INTERACTION, owner="customerId")
lookup_advisors = _lookup(_ADVISORS, ADVISOR)

__all__ = [
    "Found",
    "Lookup",
    "lookup_accounts",
    "lookup_advisors",
    "lookup_customers",
    "lookup_holdings",
    "lookup_households",
    "lookup_interactions",
    "lookup_transactions",
]
