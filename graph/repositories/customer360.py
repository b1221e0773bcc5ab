"""Reads for the customer-360 view: every function takes N keys and makes one round trip.

Each returns a dict keyed by the input id so DataLoaders can hand results back in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph.fieldcipher import (
    ADVISOR,
    CUSTOMER,
    HOUSEHOLD,
    INTERACTION,
    open_items,
    open_rows,
)
from graph.store import GraphStore, Row
from graph.timerange import text_cmp, time_cmp, time_range
from shared.records import BANK_INITIATED_KINDS

# The currency of an account stored without one (the import's default): the book's.
BOOK_CURRENCY = "CNY"
# Account types that are debts, not assets.
LIABILITY_TYPES = ("LOAN", "CREDIT_CARD")
# Transaction kinds (shared.records.TxKind) by the direction money moves.
OUTFLOW_KINDS = ("WITHDRAWAL", "TRANSFER_OUT", "PAYMENT", "FEE")
INFLOW_KINDS = ("DEPOSIT", "TRANSFER_IN", "SALARY", "INTEREST")


@dataclass(frozen=True)
class Page:
    """One page of a per-customer list: newest first, plus the count without the cursor."""

    total: int
    items: list[Row]


async def customers_by_id(store: GraphStore, ids: list[str]) -> dict[str, Row]:
    rows = await store.read(
        "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN id, c {.*} AS c", {"ids": ids}
    )
    return open_rows(store, CUSTOMER, {r["id"]: r["c"] for r in rows})


async def accounts_by_customer(store: GraphStore, ids: list[str]) -> dict[str, list[Row]]:
    """Each row: the account's properties plus ``role`` and ``coOwnerIds``."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[o:OWNS]->(a:Account)
        RETURN id, a {.*} AS account, o.role AS role,
               [(x:Customer)-[:OWNS]->(a) WHERE x.id <> id | x.id] AS coOwnerIds
        ORDER BY a.openedAt, a.id
        """,
        {"ids": ids},
    )
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r["id"]].append({**r["account"], "role": r["role"], "coOwnerIds": r["coOwnerIds"]})
    return out


async def household_by_customer(store: GraphStore, ids: list[str]) -> dict[str, Row]:
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[:MEMBER_OF]->(h:Household)
        RETURN id, h {.*} AS household
        ORDER BY h.id
        """,
        {"ids": ids},
    )
    out: dict[str, Row] = {}
    for r in rows:
        out.setdefault(r["id"], r["household"])
    opened = open_rows(store, HOUSEHOLD, {h["id"]: h for h in out.values()})
    return {cid: opened[h["id"]] for cid, h in out.items()}


async def campaigns_by_customer(store: GraphStore, ids: list[str]) -> dict[str, list[Row]]:
    """The campaigns targeting each customer (the campaign's properties and the customer's
    ``group``, treatment or control), oldest first: what a subject access export lists."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (k:Campaign)-[t:TARGETS]->(:Customer {id: id})
        RETURN id, k {.*} AS campaign, t.group AS group
        ORDER BY k.createdAt, k.id
        """,
        {"ids": ids},
    )
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r["id"]].append({**r["campaign"], "group": r["group"]})
    return dict(out)


async def households_by_id(store: GraphStore, ids: list[str]) -> dict[str, Row]:
    """Each household with ``members``: [{customerId, role}] ordered by customer id."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (h:Household {id: id})
        RETURN id, h {.*} AS household,
               [(c:Customer)-[m:MEMBER_OF]->(h) | {customerId: c.id, role: m.role}] AS members
        """,
        {"ids": ids},
    )
    opened = open_rows(store, HOUSEHOLD, {r["id"]: r["household"] for r in rows})
    return {
        r["id"]: {**opened[r["id"]], "members": sorted(r["members"], key=lambda m: m["customerId"])}
        for r in rows
    }


async def advisor_by_customer(store: GraphStore, ids: list[str]) -> dict[str, Row]:
    """Each advisor with ``branch`` (or None)."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[:MANAGED_BY]->(a:Advisor)
        RETURN id, a {.*} AS advisor, [(a)-[:WORKS_AT]->(b:Branch) | b {.*}] AS branches
        """,
        {"ids": ids},
    )
    out: dict[str, Row] = {}
    for r in rows:
        branches = r["branches"]
        out.setdefault(r["id"], {**r["advisor"], "branch": branches[0] if branches else None})
    ids_in_order = list(out)
    opened = open_items(store, ADVISOR, [(out[i]["id"], out[i]) for i in ids_in_order])
    return dict(zip(ids_in_order, opened, strict=True))


# RELATED_TO{kind} says what the target is to the source ((a)-[SPOUSE]->(b): b is a's
# spouse); seen from the target, the source is the inverse kind.
INVERSE_KIND = {
    "SPOUSE": "SPOUSE",
    "SIBLING": "SIBLING",
    "PARENT": "CHILD",
    "CHILD": "PARENT",
    "GUARANTOR": "GUARANTEED",
    "GUARANTEED": "GUARANTOR",
}
# Both directions of RELATED_TO from ``c``, each link saying whether it leaves ``c``. One
# undirected pattern: an incoming one of its own (``(c)<-[r]-(o:Customer)``) cost FalkorDB
# ~2 ms a customer, ten times the whole read.
RELATED_LINKS = """
    [(c)-[r:RELATED_TO]-(o:Customer) | {kind: r.kind, otherId: o.id, out: startNode(r) = c}]
"""


def related_rows(links: Iterable[Row]) -> list[Row]:
    """[{kind, customerId}]: what each related customer is to this one (an incoming link's
    kind inverted: a parent's CHILD link says the child's PARENT), by id then kind, each
    once (the demo links parents and children both ways)."""
    seen: set[tuple[str, Any]] = set()
    for link in links:
        kind = link["kind"]
        if not link["out"] and kind is not None:
            kind = INVERSE_KIND.get(kind, f"{kind}_OF")
        seen.add((link["otherId"], kind))
    ordered = sorted(seen, key=lambda pair: (pair[0], pair[1] or ""))
    return [{"kind": kind, "customerId": other} for other, kind in ordered]


async def related_by_customer(store: GraphStore, ids: list[str]) -> dict[str, list[Row]]:
    """[{kind, customerId}] of each customer's related customers (:func:`related_rows`)."""
    rows = await store.read(
        "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN id, " + RELATED_LINKS + " AS links",
        {"ids": ids},
    )
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r["id"]].extend(related_rows(r["links"]))
    return out


async def activity_by_customer(
    store: GraphStore,
    ids: list[str],
    *,
    flow_since: str,
    complaints_since: str,
    until: str | None = None,
) -> dict[str, Row]:
    """Per customer: lastTransactionAt, lastInteractionAt, netFlow (inflows minus outflows
    since ``flow_since``; amounts are positive and the kind gives the direction; other kinds
    count with their sign), complaints (kind COMPLAINT since ``complaints_since``).
    lastInteractionAt is the customer's own: the bank's (shared.records.BANK_INITIATED_KINDS,
    a campaign's SMS, a care call) are no sign of the customer's activity.
    ``until`` (exclusive): transactions and interactions from then on are ignored, so activity
    "as of" a date does not see what happened after it (a row without a time still counts)."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (c:Customer {id: id})
        OPTIONAL MATCH (c)-[:OWNS]->(:Account)-[:HAS_TRANSACTION]->(t:Transaction)
          WHERE $until IS NULL OR t.time IS NULL OR """
        + time_cmp("t.time", "<", "$until")
        + """
        WITH id, c, max(t.time) AS lastTx,
             sum(CASE WHEN """
        + time_cmp("t.time", "<", "$flowSince")
        + """ THEN 0
                      WHEN t.kind IN $outKinds THEN -abs(coalesce(t.amount, 0))
                      WHEN t.kind IN $inKinds THEN abs(coalesce(t.amount, 0))
                      ELSE coalesce(t.amount, 0) END) AS flow
        OPTIONAL MATCH (c)-[:HAD]->(i:Interaction)
          WHERE $until IS NULL OR i.time IS NULL OR """
        + time_cmp("i.time", "<", "$until")
        + """
        RETURN id, lastTx, flow,
               max(CASE WHEN toUpper(i.kind) IN $bankKinds THEN null ELSE i.time END) AS lastIx,
               sum(CASE WHEN toUpper(i.kind) = 'COMPLAINT' AND """
        + time_cmp("i.time", ">=", "$complaintsSince")
        + """
                   THEN 1 ELSE 0 END) AS complaints
        """,
        {
            "ids": ids,
            "flowSince": flow_since,
            "complaintsSince": complaints_since,
            "until": until,
            "outKinds": list(OUTFLOW_KINDS),
            "inKinds": list(INFLOW_KINDS),
            "bankKinds": list(BANK_INITIATED_KINDS),
        },
    )
    return {
        r["id"]: {
            "lastTransactionAt": r["lastTx"],
            "lastInteractionAt": r["lastIx"],
            "netFlow": float(r["flow"] or 0),
            "complaints": int(r["complaints"] or 0),
        }
        for r in rows
    }


def _newest_first(pattern: str, var: str, where: str, item: str) -> str:
    """Per customer ``c`` (from ``$ids``): how many ``var`` match ``pattern`` and ``where``, and
    the page of them after the cursor ($afterTime, $afterId), newest first (time, then id).
    The cursor continues the order as listed, by the time as stored (graph.timerange.text_cmp):
    an instants' comparison would skip a date-only row listed after the same midnight in full."""
    after = (
        f"($afterTime IS NULL OR {text_cmp(f'{var}.time', '<', '$afterTime')}"
        f" OR ({var}.time = $afterTime AND {var}.id < $afterId))"
    )
    return f"""
        UNWIND $ids AS id
        MATCH (c:Customer {{id: id}})
        CALL {{
            WITH c
            MATCH {pattern}
            WHERE {where}
            RETURN count(DISTINCT {var}) AS total
        }}
        CALL {{
            WITH c
            MATCH {pattern}
            WHERE {where} AND {after}
            WITH DISTINCT {var} ORDER BY {var}.time DESC, {var}.id DESC LIMIT $limit
            RETURN collect({item}) AS items
        }}
        RETURN id, total, items
        """


# Names and clauses only (fixed in code); values travel as parameters.
_TRANSACTION_PAGES = _newest_first(
    "(c)-[:OWNS]->(:Account)-[:HAS_TRANSACTION]->(t:Transaction)",
    "t",
    time_range("t.time", "$from", "$to", until_inclusive=True),
    "t {.*}",
)
_INTERACTION_PAGES = _newest_first(
    "(c)-[:HAD]->(i:Interaction)",
    "i",
    "($kind IS NULL OR i.kind = $kind)",
    "i {.*, products: [(i)-[:ABOUT]->(p:Product) | p {.*}]}",
)


async def transaction_pages(
    store: GraphStore,
    ids: list[str],
    *,
    limit: int,
    after: tuple[str, str] | None,
    time_from: str | None,
    time_to: str | None,
) -> dict[str, Page]:
    """Transactions across each customer's accounts, newest first (time, then id)."""
    rows = await store.read(
        _TRANSACTION_PAGES,
        {"ids": ids, "limit": limit, "from": time_from, "to": time_to, **_after(after)},
    )
    return {r["id"]: Page(int(r["total"]), r["items"]) for r in rows}


async def interaction_pages(
    store: GraphStore,
    ids: list[str],
    *,
    limit: int,
    after: tuple[str, str] | None,
    kind: str | None,
) -> dict[str, Page]:
    """Each customer's interactions, newest first (time, then id), optionally of one kind."""
    rows = await store.read(
        _INTERACTION_PAGES, {"ids": ids, "limit": limit, "kind": kind, **_after(after)}
    )
    # Notes are sealed under each customer's data key: one decryption batch for the page.
    opened = iter(open_items(store, INTERACTION, [(r["id"], i) for r in rows for i in r["items"]]))
    return {r["id"]: Page(int(r["total"]), [next(opened) for _ in r["items"]]) for r in rows}


def _after(after: tuple[str, str] | None) -> dict[str, Any]:
    return {"afterTime": after[0] if after else None, "afterId": after[1] if after else None}


__all__ = [
    "INFLOW_KINDS",
    "LIABILITY_TYPES",
    "OUTFLOW_KINDS",
    "Page",
    "accounts_by_customer",
    "activity_by_customer",
    "advisor_by_customer",
    "campaigns_by_customer",
    "customers_by_id",
    "household_by_customer",
    "households_by_id",
    "interaction_pages",
    "related_by_customer",
    "transaction_pages",
]
