"""Reads and writes for next best action: customer histories (recommendations, churn, care
tasks), the product catalogue, campaigns and their contacts. One round trip per call, N keys.

A history is what the pure functions in ``insights`` need about a customer: profile fields,
accounts, transactions since a given time, interactions, household members and what they
hold. A 360 request asks for the customers it shows; ``c360 recommend|churn`` page through
the whole book with ``access.customer_id_window``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from graph.fieldcipher import CUSTOMER, INTERACTION, open_items, open_rows
from graph.repositories.access import walk_key
from graph.store import GraphStore, Row
from graph.timerange import time_cmp


async def upsert_catalogue(store: GraphStore, rows: list[Row]) -> int:
    """rows: {code, props} — the catalogue's product properties (tier, family, riskLevel...)."""
    result = await store.write(
        "UNWIND $rows AS r MERGE (p:Product {code: r.code}) SET p += r.props RETURN count(p) AS n",
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def holdings_page(store: GraphStore, after: str, limit: int, every: int = 1) -> list[Row]:
    """Customers after ``after`` (by id) with the profile fields the recommender groups by
    and ``accounts`` ([{product, status}] of every account; what is held is the caller's rule,
    insights.recommend.held_products): what fitting the recommender needs.

    With ``every`` > 1 a sample: of the next ``limit * every`` customers, the last of each run
    of ``every`` (so a full page's last row is its window's last: the next page's ``after``)."""
    # The exact id walk of access.customer_id_window (never the id index; by the id's string
    # form), in the same round trip as the rows.
    rows = await store.read(
        """
        MATCH (c:Customer) WITH c, toString(c.id) AS key WHERE key > $after
        WITH c, key ORDER BY key LIMIT $window
        WITH collect(c) AS window
        UNWIND range($every - 1, size(window) - 1, $every) AS i
        WITH window[i] AS c, i
        RETURN c.id AS id, c.birthDate AS birthDate, c.incomeBand AS incomeBand,
               c.riskProfile AS riskProfile, c.occupation AS occupation,
               [(c)-[:OWNS]->(a:Account) | a {.product, .status}] AS accounts
        ORDER BY i
        """,
        {"after": walk_key(after), "window": limit * every, "every": every},
    )
    return _opened(store, rows, lambda r: r)


# The transactions of the customers $ids (``id``, ``a``: the account, ``t``), up to the WHERE
# of the caller's time condition: the rows of a window and the flows after it read the same.
_TRANSACTIONS = """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[:OWNS]->(a:Account)
        WITH id, a
        MATCH (a)-[:HAS_TRANSACTION]->(t:Transaction)
        WITH id, a, t WHERE """


async def histories(
    store: GraphStore,
    ids: list[str],
    tx_since: str,
    tx_until: str | None = None,
    inflow_kinds: list[str] | None = None,
) -> dict[str, Row]:
    """Per customer: ``customer`` (profile fields), ``accounts``, ``transactions`` since
    ``tx_since`` ({accountId, time, amount, kind}), ``interactions``, ``householdId``,
    ``members`` ([{id, products}] of the other household members, ``products`` those of
    their accounts not CLOSED) and ``related`` (count).

    With ``tx_until`` the transactions are those of [tx_since, tx_until) only, and
    ``flowsFrom`` is {since: tx_until, accounts: {accountId: net flow}}: the net flow of each
    account from ``tx_until`` on, summed in the graph (one aggregate round trip; an amount
    counts in when its kind is one of ``inflow_kinds``, else out), so a history as of a day
    years back reads the rows of its window, not every transaction since."""
    rows = await store.read(
        """
        UNWIND $ids AS id
        MATCH (c:Customer {id: id})
        RETURN id,
               c {.id, .birthDate, .incomeBand, .riskProfile, .createdAt, .occupation,
                  .consentMarketing} AS customer,
               [(c)-[:OWNS]->(a:Account) |
                  a {.id, .type, .product, .balance, .status, .openedAt, .closedAt}] AS accounts,
               [(c)-[:MEMBER_OF]->(h:Household) | h.id] AS households,
               size([(c)-[:RELATED_TO]-(:Customer) | 1]) AS related
        """,
        {"ids": ids},
    )
    # Separate round trips: nested in pattern comprehensions these run far slower on FalkorDB.
    txs = await store.read(
        _TRANSACTIONS
        + time_cmp("t.time", ">=", "$since")
        + " AND ($until IS NULL OR "
        + time_cmp("t.time", "<", "$until")
        + """)
        RETURN id, a.id AS accountId, t.time AS time, t.amount AS amount, t.kind AS kind
        """,
        {"ids": ids, "since": tx_since, "until": tx_until},
    )
    flows_of: dict[str, dict[str, float]] = defaultdict(dict)
    if tx_until is not None:
        for f in await store.read(
            _TRANSACTIONS
            + time_cmp("t.time", ">=", "$until")
            + """
            WITH id, a, coalesce(toFloat(t.amount), 0.0) AS amount,
                 toUpper(coalesce(t.kind, '')) IN $inflow AS inflow
            RETURN id, a.id AS accountId,
                   sum(CASE WHEN inflow THEN amount ELSE -amount END) AS flow
            """,
            {"ids": ids, "until": tx_until, "inflow": inflow_kinds or []},
        ):
            flows_of[f["id"]][str(f["accountId"])] = float(f["flow"])
    ixs = await store.read(
        """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[:HAD]->(i:Interaction)
        RETURN id, i {.id, .kind, .time, .resolved, .satisfaction, .summary, .campaignId,
                      .taskId} AS i
        """,
        {"ids": ids},
    )
    members = await store.read(
        """
        UNWIND $ids AS id
        MATCH (:Customer {id: id})-[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(m:Customer)
        WHERE m.id <> id
        OPTIONAL MATCH (m)-[:OWNS]->(a:Account)
        WHERE a.status IS NULL OR toUpper(a.status) <> $closed
        RETURN id, m.id AS member, collect(a.product) AS products
        """,
        # A member's closed account is no holding (insights.history.CLOSED).
        {"ids": ids, "closed": "CLOSED"},
    )
    members_of: dict[str, list[Row]] = defaultdict(list)
    for m in members:
        members_of[m["id"]].append({"id": m["member"], "products": m["products"]})
    tx_of: dict[str, list[Row]] = defaultdict(list)
    for t in txs:
        tx_of[t.pop("id")].append(t)
    ix_of: dict[str, list[Row]] = defaultdict(list)
    # Notes are sealed under the customer's data key (care tasks quote a complaint's summary).
    for i, opened in zip(ixs, open_items(store, INTERACTION, [(i["id"], i["i"]) for i in ixs]),
                         strict=True):  # fmt: skip
        ix_of[i["id"]].append(opened)
    _opened(store, rows, lambda r: r["customer"])
    out: dict[str, Row] = {}
    for r in rows:
        households = r["households"] or []
        out[r["id"]] = {
            "customer": r["customer"],
            # As text: one account's openedAt stored as a number must not fail the batch.
            "accounts": sorted(
                r["accounts"] or [], key=lambda a: (str(a.get("openedAt") or ""), str(a["id"]))
            ),
            "transactions": tx_of.get(r["id"], []),
            "interactions": ix_of.get(r["id"], []),
            "householdId": households[0] if households else None,
            "members": members_of.get(r["id"], []),
            "related": int(r["related"] or 0),
        }
        if tx_until is not None:
            out[r["id"]]["flowsFrom"] = {"since": tx_until, "accounts": flows_of.get(r["id"], {})}
    return out


def _opened(store: GraphStore, rows: list[Row], profile: Callable[[Row], Row]) -> list[Row]:
    """The rows with the sealed birth date in each ``profile(row)`` opened (field encryption:
    see graph.fieldcipher), in place."""
    opened = open_rows(
        store, CUSTOMER, {r["id"]: {"birthDate": profile(r)["birthDate"]} for r in rows}
    )
    for r in rows:
        profile(r)["birthDate"] = opened[r["id"]]["birthDate"]
    return rows


async def managed_customer_ids(store: GraphStore, advisor_id: str) -> list[str]:
    rows = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(:Advisor {id: $advisor}) RETURN c.id AS id ORDER BY id",
        {"advisor": advisor_id},
    )
    return [r["id"] for r in rows]


__all__ = [
    "histories",
    "holdings_page",
    "managed_customer_ids",
    "upsert_catalogue",
]
