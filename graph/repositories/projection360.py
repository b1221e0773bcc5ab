"""One customer's 360 view in one round trip: the customer with its policy attributes, its
accounts, household (with members), advisor, related customers, activity and one page each of
transactions and interactions.

The 360 query otherwise makes about ten round trips (one per loader, then the household's
members, then the linked customers). Each part here is the same Cypher as its reader in
graph/repositories/customer360.py (shared clauses where they aggregate or page) and comes back
in the same shape, so a DataLoader primed with it answers exactly as if it had read the part
itself (tests/graph/test_projection360.py compares them). Reading is not revealing: the
caller's decision and the masking still govern every value the view returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.fieldcipher import ADVISOR, CUSTOMER, HOUSEHOLD, INTERACTION, open_items, open_rows
from graph.repositories.access import ACCESS_KEY, access_attributes
from graph.repositories.customer360 import (
    ACTIVITY,
    ACTIVITY_RETURN,
    INTERACTION_ITEM,
    INTERACTIONS,
    TRANSACTIONS,
    Page,
    activity_params,
    activity_row,
    newest_first_calls,
)
from graph.store import GraphStore, Row
from graph.timerange import time_range

_TX_TOTAL, _TX_PAGE = newest_first_calls(
    TRANSACTIONS,
    "t",
    time_range("t.time", "$txfrom", "$txto", until_inclusive=True),
    "t {.*}",
    prefix="tx",
)
_IX_TOTAL, _IX_PAGE = newest_first_calls(
    INTERACTIONS, "i", "($ixkind IS NULL OR i.kind = $ixkind)", INTERACTION_ITEM, prefix="ix"
)

# The activity clauses aggregate away every other variable: they run in a subquery of their own.
# Which linked customers to read is switched by CASE: FalkorDB drops the whole row when a
# pattern comprehension's WHERE is a false parameter.
_QUERY = (
    """
    MATCH (c:Customer {id: $id})"""
    + _TX_TOTAL
    + _TX_PAGE
    + _IX_TOTAL
    + _IX_PAGE
    + """
    CALL {
        WITH c
        WITH c, c.id AS id"""
    + ACTIVITY
    + "RETURN "
    + ACTIVITY_RETURN
    + """
    }
    CALL {
        WITH c
        MATCH (c)-[own:OWNS]->(acc:Account)
        RETURN collect({account: acc {.*}, role: own.role,
            coOwnerIds: [(x:Customer)-[:OWNS]->(acc) WHERE x.id <> c.id | x.id]}) AS accounts
    }
    CALL {
        WITH c
        MATCH (c)-[:MEMBER_OF]->(h:Household)
        RETURN collect({household: h {.*},
            members: [(m:Customer)-[mo:MEMBER_OF]->(h) | {customerId: m.id, role: mo.role}]})
            AS households
    }
    CALL {
        WITH c
        MATCH (c)-[:MANAGED_BY]->(adv:Advisor)
        RETURN collect({advisor: adv {.*},
            branches: [(adv)-[:WORKS_AT]->(br:Branch) | br {.*}]}) AS advisors
    }
    WITH c, txtotal, txitems, ixtotal, ixitems, lastTx, flow, lastIx, complaints, accounts,
         households, advisors,
         CASE WHEN $coOwners
              THEN [(c)-[:OWNS]->(:Account)<-[:OWNS]-(x1:Customer) | x1] ELSE [] END
         + CASE WHEN $members
                THEN [(c)-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(x2:Customer) | x2] ELSE [] END
         + CASE WHEN $related THEN [(c)-[:RELATED_TO]-(x3:Customer) | x3] ELSE [] END
         AS linkedNodes
    CALL {
        WITH c, linkedNodes
        UNWIND linkedNodes AS x
        WITH DISTINCT c, x WHERE x <> c
        RETURN collect({c: x {.*},
            advisorIds: [(x)-[:MANAGED_BY]->(a2:Advisor) | a2.id],
            branchIds: [(x)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b2:Branch) | b2.id]})
            AS linked
    }
    RETURN c {.*} AS c,
           [(c)-[:MANAGED_BY]->(a1:Advisor) | a1.id] AS advisorIds,
           [(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b1:Branch) | b1.id] AS branchIds,
           accounts, households, advisors,
           [(c)-[rel:RELATED_TO]-(other:Customer) | {kind: rel.kind, otherId: other.id}]
               AS related,
           txtotal, txitems, ixtotal, ixitems, lastTx, flow, lastIx, complaints, linked
    """
)


# Linked customers by how they are linked: co-owners of an account, members of a household
# the customer belongs to, customers related either way.
LINKED = ("coOwners", "members", "related")


@dataclass(frozen=True)
class PageArgs:
    """One page's arguments as the loaders key them (``limit`` already includes the extra row
    that tells whether there is a next page)."""

    limit: int
    after: tuple[str, str] | None = None


@dataclass(frozen=True)
class View360:
    """The parts, each shaped like its reader in customer360.py / access.py returns it."""

    customer: Row  # customers_with_access
    accounts: list[Row]  # accounts_by_customer
    household_of: Row | None  # household_by_customer
    household: Row | None  # households_by_id (with members) of that household
    advisor: Row | None  # advisor_by_customer
    related: list[Row]  # related_by_customer
    activity: Row  # activity_by_customer
    transactions: Page  # transaction_pages (no time range)
    interactions: Page  # interaction_pages
    # customers_with_access of the co-owners, household members and related customers asked
    linked: dict[str, Row]


async def customer_view(
    store: GraphStore,
    customer_id: str,
    *,
    transactions: PageArgs,
    interactions: PageArgs,
    interaction_kind: str | None,
    flow_since: str,
    complaints_since: str,
    until: str | None,
    linked: frozenset[str] = frozenset(),
) -> View360 | None:
    """The 360 parts of one customer in one round trip; None when there is no such customer.
    ``linked``: which linked customers to read too (of ``LINKED``)."""
    tx_after, ix_after = transactions.after, interactions.after
    rows = await store.read(
        _QUERY,
        {
            "id": customer_id,
            "txlimit": transactions.limit,
            "txfrom": None,
            "txto": None,
            "txafterTime": tx_after[0] if tx_after else None,
            "txafterId": tx_after[1] if tx_after else None,
            "ixlimit": interactions.limit,
            "ixkind": interaction_kind,
            "ixafterTime": ix_after[0] if ix_after else None,
            "ixafterId": ix_after[1] if ix_after else None,
            **activity_params(flow_since, complaints_since, until),
            **{name: name in linked for name in LINKED},
        },
    )
    if not rows:
        return None
    return _view(store, customer_id, rows[0])


def _view(store: GraphStore, cid: str, r: Row) -> View360:
    customer = dict(open_rows(store, CUSTOMER, {cid: r["c"]})[cid])
    customer[ACCESS_KEY] = access_attributes({**customer, **r})
    # The readers' ORDER BY, here in Python: pattern comprehensions keep no order.
    accounts = [
        {**a["account"], "role": a["role"], "coOwnerIds": a["coOwnerIds"]}
        for a in sorted(
            r["accounts"], key=lambda a: (_key(a["account"].get("openedAt")), a["account"]["id"])
        )
    ]
    households = sorted(r["households"], key=lambda h: h["household"]["id"])
    household_of = household = None
    if households:
        first = households[0]
        hid = first["household"]["id"]
        opened = open_rows(store, HOUSEHOLD, {hid: first["household"]})[hid]
        household_of = opened
        members = sorted(first["members"], key=lambda m: m["customerId"])
        household = {**opened, "members": members}
    advisor = None
    if r["advisors"]:
        a = r["advisors"][0]
        branches = a["branches"]
        row = {**a["advisor"], "branch": branches[0] if branches else None}
        advisor = open_items(store, ADVISOR, [(row["id"], row)])[0]
    related: list[Row] = []
    seen: set[tuple[Any, Any]] = set()
    for link in sorted(r["related"], key=lambda x: (x["otherId"], _key(x["kind"]))):
        if (link["kind"], link["otherId"]) not in seen:
            seen.add((link["kind"], link["otherId"]))
            related.append({"kind": link["kind"], "customerId": link["otherId"]})
    interactions = open_items(store, INTERACTION, [(cid, i) for i in r["ixitems"]])
    linked = open_rows(store, CUSTOMER, {x["c"]["id"]: x["c"] for x in r["linked"]})
    for x in r["linked"]:
        row = linked[x["c"]["id"]] = dict(linked[x["c"]["id"]])
        row[ACCESS_KEY] = access_attributes({**row, **x})
    return View360(
        customer=customer,
        accounts=accounts,
        household_of=household_of,
        household=household,
        advisor=advisor,
        related=related,
        activity=activity_row(r),
        transactions=Page(int(r["txtotal"]), r["txitems"]),
        interactions=Page(int(r["ixtotal"]), interactions),
        linked=linked,
    )


def _key(value: Any) -> tuple[bool, str]:
    """Cypher's ascending order for a property: values first, nulls last."""
    return (value is None, "" if value is None else str(value))


__all__ = ["LINKED", "PageArgs", "View360", "customer_view"]
