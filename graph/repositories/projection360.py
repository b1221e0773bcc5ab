"""The light parts of one customer's 360 view in one round trip: the customer with its policy
attributes, its accounts, household (with members), advisor, related customers, and the
linked customers those lists name (co-owners, members, related), each with its attributes.

The 360 query otherwise makes these reads one round trip after another (the customer, then
four loaders, then the household's members, then the linked customers). Each part here is the
same Cypher as its reader in graph/repositories/customer360.py / access.py and comes back in the
same shape, so a DataLoader primed with it answers exactly as if it had read the part itself
(tests/graph/test_projection360.py compares them). The heavy parts (activity, the transaction
and interaction pages) are not here: they aggregate or sort a customer's history, and as
queries of their own they run beside this one on the graph server's other threads, where one
query would run them one after the other (a slower 360 at concurrency 1). Reading is not
revealing: the caller's decision and the masking still govern every value the view returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.fieldcipher import ADVISOR, CUSTOMER, HOUSEHOLD, open_items, open_rows
from graph.repositories.access import ACCESS_KEY, access_attributes
from graph.repositories.customer360 import RELATED_LINKS, related_rows
from graph.store import GraphStore, Row

# Which linked customers to read is switched by CASE: FalkorDB drops the whole row when a
# pattern comprehension's WHERE is a false parameter. The policy attributes (advisor and
# branch ids) come from OPTIONAL MATCHes for the linked customers and from the advisors part
# for the customer itself: FalkorDB runs a pattern comprehension as a sub-plan per row, and
# the four that read them were ~15 % of this query's server time (graph/repositories/access.py
# chose OPTIONAL MATCH for the same reason).
_QUERY = (
    """
    MATCH (c:Customer {id: $id})
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
    WITH c, accounts, households, advisors,
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
        OPTIONAL MATCH (x)-[:MANAGED_BY]->(a2:Advisor)
        OPTIONAL MATCH (a2)-[:WORKS_AT]->(b2:Branch)
        WITH x, collect(a2.id) AS advisorIds, collect(b2.id) AS branchIds
        RETURN collect({c: x {.*}, advisorIds: advisorIds, branchIds: branchIds}) AS linked
    }
    RETURN c {.*} AS c, accounts, households, advisors,
           """
    + RELATED_LINKS
    + """ AS related,
           linked
    """
)


# Linked customers by how they are linked: co-owners of an account, members of a household
# the customer belongs to, customers related either way.
LINKED = ("coOwners", "members", "related")


@dataclass(frozen=True)
class View360:
    """The parts, each shaped like its reader in customer360.py / access.py returns it."""

    customer: Row  # customers_with_access
    accounts: list[Row]  # accounts_by_customer
    household_of: Row | None  # household_by_customer
    household: Row | None  # households_by_id (with members) of that household
    advisor: Row | None  # advisor_by_customer
    related: list[Row]  # related_by_customer
    # customers_with_access of the co-owners, household members and related customers asked
    linked: dict[str, Row]


async def customer_view(
    store: GraphStore, customer_id: str, linked: frozenset[str] = frozenset()
) -> View360 | None:
    """The light 360 parts of one customer in one round trip; None when there is no such
    customer. ``linked``: which linked customers to read too (of ``LINKED``)."""
    rows = await store.read(
        _QUERY, {"id": customer_id, **{name: name in linked for name in LINKED}}
    )
    if not rows:
        return None
    return _view(store, customer_id, rows[0])


def _view(store: GraphStore, cid: str, r: Row) -> View360:
    customer = dict(open_rows(store, CUSTOMER, {cid: r["c"]})[cid])
    managed_by = {
        "advisorIds": [a["advisor"]["id"] for a in r["advisors"]],
        "branchIds": [b["id"] for a in r["advisors"] for b in a["branches"]],
    }
    customer[ACCESS_KEY] = access_attributes({**customer, **managed_by})
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
    related = related_rows(r["related"])
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
        linked=linked,
    )


def _key(value: Any) -> tuple[bool, str]:
    """Cypher's ascending order for a property: values first, nulls last."""
    return (value is None, "" if value is None else str(value))


__all__ = ["LINKED", "View360", "customer_view"]
