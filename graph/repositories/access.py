"""Reads the privacy layer needs: customers with the attributes a policy decides on, and
search candidates with those attributes, each in one round trip.

Policy attributes: ``advisorId`` (MANAGED_BY), ``branchId`` (the advisor's WORKS_AT),
``consentMarketing``, ``consentDataSharing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.fieldcipher import CUSTOMER, cipher_of, open_rows
from graph.repositories.customer360 import BOOK_CURRENCY, LIABILITY_TYPES
from graph.store import GraphStore, Row

ACCESS_KEY = "_access"

_ATTRIBUTES = """
       [(c)-[:MANAGED_BY]->(a:Advisor) | a.id] AS advisorIds,
       [(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b:Branch) | b.id] AS branchIds
"""
# The same attributes by OPTIONAL MATCH and collect (after ``WITH c``, before a RETURN that
# ends with ACCESS_COLUMNS): FalkorDB runs a pattern comprehension as a sub-plan per row, and
# the two above cost ~15 ms per 100 customers against ~2 ms for these.
ACCESS_MATCH = """
OPTIONAL MATCH (c)-[:MANAGED_BY]->(adv:Advisor)
OPTIONAL MATCH (adv)-[:WORKS_AT]->(br:Branch)
"""
ACCESS_COLUMNS = " collect(adv.id) AS advisorIds, collect(br.id) AS branchIds"


def customer_attributes(
    advisor_id: str | None, branch_id: str | None, marketing: bool, data_sharing: bool
) -> dict[str, Any]:
    """The policy attributes of a Customer resource (the one place they are spelled)."""
    return {
        "advisorId": advisor_id,
        "branchId": branch_id,
        "consentMarketing": marketing,
        "consentDataSharing": data_sharing,
    }


@dataclass(frozen=True)
class Scope:
    """Which customers a scoped caller may possibly see, as a pre-filter pushed into the
    search's Cypher: ``classes`` are the policy-attribute classes (:func:`class_key`) whose
    decision allows; ``advisors``, when set, are the only advisors those classes name, so the
    search walks from them instead of over every customer. Each candidate is still decided."""

    classes: frozenset[str]
    advisors: frozenset[str] | None


def class_key(attributes: dict[str, Any]) -> str:
    """One string per combination of the four policy attributes (as the Cypher below builds)."""
    return "|".join(
        [
            attributes.get("advisorId") or "",
            attributes.get("branchId") or "",
            "1" if attributes.get("consentMarketing") is True else "0",
            "1" if attributes.get("consentDataSharing") is True else "0",
        ]
    )


_CLASS_KEY = """coalesce(head([(c)-[:MANAGED_BY]->(a:Advisor) | a.id]), '') + '|' +
    coalesce(head([(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b:Branch) | b.id]), '') + '|' +
    CASE WHEN c.consentMarketing = true THEN '1' ELSE '0' END + '|' +
    CASE WHEN c.consentDataSharing = true THEN '1' ELSE '0' END"""


async def access_classes(store: GraphStore) -> list[dict[str, Any]]:
    """Every combination of policy attributes a customer can have, read from the advisors
    (not the customers): each advisor with its branch, and no advisor at all, times the four
    consent combinations. A scoped caller decides these few instead of every customer."""
    rows = await store.read(
        "MATCH (a:Advisor) RETURN a.id AS advisorId, "
        "head([(a)-[:WORKS_AT]->(b:Branch) | b.id]) AS branchId"
    )
    pairs = {(r["advisorId"], r["branchId"]) for r in rows} | {(None, None)}
    return [
        customer_attributes(advisor, branch, marketing, sharing)
        for advisor, branch in sorted(pairs, key=lambda p: (p[0] or "", p[1] or ""))
        for marketing in (False, True)
        for sharing in (False, True)
    ]


async def advisor_branches(store: GraphStore, ids: list[str]) -> dict[str, str | None]:
    """The branch each stored advisor works at (None: none recorded); unknown ids are left
    out. The ``branchId`` a customer managed by that advisor would have."""
    rows = await store.read(
        "UNWIND $ids AS id MATCH (a:Advisor {id: id}) "
        "RETURN id, head([(a)-[:WORKS_AT]->(b:Branch) | b.id]) AS branchId",
        {"ids": ids},
    )
    return {r["id"]: r["branchId"] for r in rows}


def access_attributes(row: Row) -> dict[str, Any]:
    """The policy attributes of a customer row from either query below."""
    advisors = row.get("advisorIds") or []
    branches = row.get("branchIds") or []
    return customer_attributes(
        advisors[0] if advisors else None,
        branches[0] if branches else None,
        row.get("consentMarketing") is True,
        row.get("consentDataSharing") is True,
    )


async def customers_with_access(store: GraphStore, ids: list[str]) -> dict[str, Row]:
    """Customer rows (``c {.*}``) keyed by id, each with its policy attributes under
    ``ACCESS_KEY``: the customer loader's query, so a decision costs no extra round trip."""
    rows = await store.read(
        "UNWIND $ids AS id MATCH (c:Customer {id: id}) WITH id, c"
        + ACCESS_MATCH
        + "RETURN id, c {.*} AS c,"
        + ACCESS_COLUMNS,
        {"ids": ids},
    )
    out: dict[str, Row] = {}
    opened = open_rows(store, CUSTOMER, {r["id"]: r["c"] for r in rows})
    for r in rows:
        customer = dict(opened[r["id"]])
        customer[ACCESS_KEY] = access_attributes({**customer, **r})
        out[r["id"]] = customer
    return out


# Sealed rows match by keyed blind index / name tokens (a superset of the name matches: the
# caller decides on the decrypted name); rows written before encryption was wired match by
# their plain value.
_MATCHES = """$scan OR $text IS NULL OR c.id = $text OR c.name CONTAINS $name
   OR (size($nameTok) > 0 AND all(t IN $nameTok WHERE t IN c.nameTok))
   OR c.phone = $phone OR c.phoneBidx = $phoneBidx
   OR c.idNumber = $idNumber OR c.idNumberBidx = $idNumberBidx
   OR c.email = $email OR c.emailBidx = $emailBidx"""


def _match_params(
    store: GraphStore,
    text: str | None,
    name: str | None,
    phone: str | None,
    id_number: str | None,
    email: str | None,
) -> Row:
    cipher = cipher_of(store)
    return {
        "text": text,
        "name": name,
        "phone": phone,
        "nameTok": cipher.name_tokens(name) if name is not None else [],
        "phoneBidx": cipher.blind("phone", phone),
        "idNumber": id_number,
        "idNumberBidx": cipher.blind("idNumber", id_number),
        "email": email,
        "emailBidx": cipher.blind("email", email),
    }


# Assets as the 360 computes them (resolvers.analytics.total_assets): the sum of the balances
# of non-liability accounts, null (unknown, in no segment) when one of them has no balance or
# is in a currency other than the book's.
_ASSETS = """
        OPTIONAL MATCH (c)-[:OWNS]->(acc:Account)
        WITH c, sum(CASE WHEN acc.type IN $liabilities THEN 0
                    ELSE coalesce(acc.balance, 0) END) AS total,
             sum(CASE WHEN acc IS NOT NULL AND acc.balance IS NULL
                       AND NOT coalesce(acc.type IN $liabilities, false) THEN 1 ELSE 0 END)
               AS unknown,
             collect(DISTINCT CASE WHEN acc IS NULL OR acc.type IN $liabilities THEN null
                                   WHEN coalesce(acc.currency, '') = '' THEN $book
                                   ELSE toUpper(acc.currency) END) AS currencies
        WITH c, CASE WHEN unknown > 0 OR size([x IN currencies WHERE x <> $book]) > 0
                     THEN null ELSE total END AS assets
"""


async def count_matches(
    store: GraphStore,
    *,
    text: str | None,
    name: str | None,
    phone: str | None,
    min_assets: float | None,
    max_assets: float | None,
    id_number: str | None = None,
    email: str | None = None,
) -> int:
    """How many customers a filtered (not scanning) search matches: the total of a listing
    whose every match the caller may see, counted without reading the rows. Exact for id,
    phone, ID number, e-mail and asset filters; a name criterion counts the token matches (a
    superset on sealed names), so callers count name searches from decrypted rows instead."""
    params = {
        **_match_params(store, text, name, phone, id_number, email),
        "minAssets": min_assets,
        "maxAssets": max_assets,
        "liabilities": list(LIABILITY_TYPES),
        "book": BOOK_CURRENCY,
        "scan": False,
    }
    by_assets = min_assets is not None or max_assets is not None
    assets = (
        _ASSETS
        + """
        WHERE ($minAssets IS NULL OR assets >= $minAssets)
          AND ($maxAssets IS NULL OR assets < $maxAssets)
        """
        if by_assets
        else ""
    )
    if text is None and not by_assets:
        rows = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    else:
        rows = await store.read(
            "MATCH (c:Customer) WHERE " + _MATCHES + assets + " RETURN count(c) AS n", params
        )
    return int(rows[0]["n"]) if rows else 0


# Every walk over the customers in id order reads ids by this label scan, never by the id
# index: FalkorDB 4.16's range scan over the string index does not order strings as Cypher
# does and leaves ids out of its ranges (with ids of mixed case or beyond ASCII side by side,
# ``c.id > 'a'`` returned 'C1' and 'Z', '客户1' never came, ``> 'CA' AND < 'D'`` missed 'Ca';
# the same filter without the index is exact). The order is the id's string form, the same
# key as the filter, so an id that is not a string (c360 writes none; another tool might) is
# walked once where its string sorts, the cursor being that string (:func:`walk_key`). A label
# scan with a top-k sort: faster than the index for an open range (100 000 customers, 101
# ids: 50 ms against 314 ms from the start, 30 against 99 from the middle).
_IDS_AFTER = (
    "MATCH (c:Customer) WITH c, toString(c.id) AS key WHERE key > $after "
    "RETURN c.id AS id ORDER BY key LIMIT $limit"
)


def walk_key(customer_id: Any) -> str:
    """The cursor of a walk in id order: the id as Cypher's ``toString`` writes it. Python's
    ``str`` differs for floats ('1.5' against '1.500000') and booleans ('True' against
    'true'), and a cursor below its own id's key returns that id again: a walk ending on one
    would never end. (Floats that agree to six decimals share a key; only the first is walked.)"""
    if isinstance(customer_id, bool):
        return "true" if customer_id else "false"
    if isinstance(customer_id, float):
        return f"{customer_id:f}"  # C's %f, as FalkorDB's toString
    return str(customer_id)


async def customer_id_window(store: GraphStore, after: str | None, limit: int) -> list[str]:
    """Up to ``limit`` customer ids above ``after``, in order: one page of an unfiltered
    listing or of a walk over every customer."""
    cursor = "" if after is None else walk_key(after)
    rows = await store.read(_IDS_AFTER, {"after": cursor, "limit": limit})
    return [r["id"] for r in rows]


async def search_candidates(
    store: GraphStore,
    *,
    text: str | None,
    name: str | None,
    phone: str | None,
    min_assets: float | None,
    max_assets: float | None,
    with_assets: bool,
    cap: int,
    scan: bool = False,
    id_number: str | None = None,
    email: str | None = None,
    after: str | None = None,
    scope: Scope | None = None,
) -> list[Row]:
    """Every customer the search could match (ordered by id, at most ``cap``), with which
    clause matched (``byId``, ``byName``, ``byPhone``, ``byIdNumber``, ``byEmail``),
    ``name`` (decrypted), ``createdAt``, ``assets`` (when ``with_assets``) and the policy
    attributes, so the caller can drop matches the caller may not see or may not search by.
    ``text`` matches the id, ``name`` the name, ``phone`` / ``id_number`` / ``email`` their
    blind indexes (or a plain value written before encryption was wired).

    With ``scan`` nothing is filtered here: every customer comes back with its flags (and
    assets), so the work does not depend on whether anything matches.

    With ``after`` only ids above it are read: a page window (``cap`` = page size + 1).

    With ``scope`` only customers of its classes are read (walking from its advisors when it
    names them): a scoped caller's scan covers its scope, not the book."""
    cipher = cipher_of(store)
    params = {
        **_match_params(store, text, name, phone, id_number, email),
        "minAssets": min_assets,
        "maxAssets": max_assets,
        "liabilities": list(LIABILITY_TYPES),
        "book": BOOK_CURRENCY,
        "cap": cap,
        "scan": scan,
        "after": after,
    }
    # Summing balances costs a walk over every candidate's accounts: only when asked for.
    assets = (
        _ASSETS
        + """
        WHERE $scan OR (($minAssets IS NULL OR assets >= $minAssets)
          AND ($maxAssets IS NULL OR assets < $maxAssets))
        """
        if with_assets
        else "WITH c, null AS assets"
    )
    start = "MATCH (c:Customer)\nWHERE "
    if scope is not None:
        params["classes"] = sorted(scope.classes)
        match = "MATCH (c:Customer)"
        if scope.advisors is not None:
            params["advisors"] = sorted(scope.advisors)
            match = (
                "MATCH (a:Advisor) WHERE a.id IN $advisors "
                "MATCH (c:Customer)-[:MANAGED_BY]->(a) WITH DISTINCT c"
            )
        start = match + "\nWITH c, " + _CLASS_KEY + " AS cls\nWHERE cls IN $classes AND "
    rows = await store.read(
        start
        + """($after IS NULL OR c.id > $after) AND ("""
        + _MATCHES
        + ")"
        + assets
        + """
        WITH c, assets ORDER BY c.id LIMIT $cap
        RETURN c.id AS id, c.name AS name, c.createdAt AS createdAt, assets,
               c.consentMarketing AS consentMarketing,
               c.consentDataSharing AS consentDataSharing,
               c.id = $text AS byId,
               (c.phone = $phone OR c.phoneBidx = $phoneBidx) AS byPhone,
               (c.idNumber = $idNumber OR c.idNumberBidx = $idNumberBidx) AS byIdNumber,
               (c.email = $email OR c.emailBidx = $emailBidx) AS byEmail,"""
        + _ATTRIBUTES,
        params,
    )
    # Every returned name is decrypted (a scan: all of them), and the name clause is decided
    # on the plain value, so the work does not depend on what the tokens matched.
    opened = cipher.open_many(CUSTOMER, [(r["id"], {"name": r["name"]}) for r in rows])
    out = []
    for r, o in zip(rows, opened, strict=True):
        plain = o.get("name")
        by_name = name is not None and plain is not None and name in plain
        flags = {k: r[k] is True for k in ("byPhone", "byIdNumber", "byEmail")}
        out.append({**r, "name": plain, "byName": by_name, **flags})
    return [{**r, ACCESS_KEY: access_attributes(r)} for r in out]


__all__ = [
    "ACCESS_COLUMNS",
    "ACCESS_KEY",
    "ACCESS_MATCH",
    "Scope",
    "access_attributes",
    "access_classes",
    "class_key",
    "count_matches",
    "customer_attributes",
    "customer_id_window",
    "customers_with_access",
    "search_candidates",
    "walk_key",
]
