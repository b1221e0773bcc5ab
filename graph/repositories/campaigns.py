"""Campaigns: the audience query, the campaign and its members (TARGETS{group}), contacts
(MARKETING interactions carrying campaignId) and what they converted; care-task completions
(interactions carrying taskId). One round trip per call."""

from __future__ import annotations

from graph.fieldcipher import CUSTOMER, INTERACTION, open_rows, seal_rows
from graph.repositories.access import access_attributes, walk_key
from graph.store import GraphStore, Row
from graph.timerange import fine_time, time_cmp, time_range


async def audience_candidates(
    store: GraphStore,
    *,
    income_bands: list[str] | None,
    risk_profiles: list[str] | None,
    holds: str | None,
    not_holds: str | None,
    closed: str,
    after: str | None,
    limit: int,
) -> list[Row]:
    """One batch of the customers matching the attribute filter: the first ``limit`` above
    ``after`` in id order (a walk, as graph.repositories.access's: the key is the id's string,
    the next batch starts after :func:`walk_key` of the last id), each with ``birthDate``,
    ``riskProfile`` (suitability) and the policy attributes under ``attributes``. The caller
    walks every batch: an audience is never cut at a cap. ``holds``/``notHolds`` read the
    accounts whose status is not ``closed`` (insights.recommend.CLOSED: a closed account is no
    holding)."""
    rows = await store.read(
        """
        MATCH (c:Customer)
        WITH c, toString(c.id) AS key
        WHERE key > $after
          AND ($incomes IS NULL OR c.incomeBand IN $incomes)
          AND ($risks IS NULL OR c.riskProfile IN $risks)
        WITH c, key, [(c)-[:OWNS]->(a:Account)
                      WHERE a.status IS NULL OR toUpper(a.status) <> $closed
                      | a.product] AS products
        WHERE ($holds IS NULL OR $holds IN products)
          AND ($notHolds IS NULL OR NOT $notHolds IN products)
        WITH c, key ORDER BY key LIMIT $limit
        RETURN c.id AS id, c.birthDate AS birthDate, c.riskProfile AS riskProfile,
               c.consentMarketing AS consentMarketing,
               c.consentDataSharing AS consentDataSharing,
               [(c)-[:MANAGED_BY]->(a:Advisor) | a.id] AS advisorIds,
               [(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b:Branch) | b.id] AS branchIds,
               key
        ORDER BY key
        """,
        {
            "incomes": income_bands,
            "risks": risk_profiles,
            "holds": holds,
            "notHolds": not_holds,
            "closed": closed,
            "after": "" if after is None else walk_key(after),
            "limit": limit,
        },
    )
    born = open_rows(store, CUSTOMER, {r["id"]: {"birthDate": r["birthDate"]} for r in rows})
    return [{"id": r["id"], "birthDate": born[r["id"]]["birthDate"],
             "riskProfile": r["riskProfile"], "attributes": access_attributes(r)}
            for r in rows]  # fmt: skip


async def create_campaign(
    store: GraphStore, campaign_id: str, props: Row, members: list[Row], now: str | None = None
) -> int | None:
    """Create the campaign with its members ({customerId, group}) unless another campaign of
    ``props["product"]`` with the same ``props["audience"]`` is not yet ended at ``now`` (None:
    ended or not) and its
    window overlaps [``props["from"]``, ``props["to"]``): then nothing is written and the
    answer is None, else the number of members linked. Check and create are one write, so two
    creates of the same campaign (two requests, two ``--workers`` processes) cannot both pass:
    the graph runs one write at a time. Windows are ISO-8601 UTC text, to the second or with
    a fraction (resolvers.analytics.iso_exact), compared through fine_time, which orders as
    the times do."""
    result = await store.write(
        """
        OPTIONAL MATCH (d:Campaign)
        WHERE d.product = $props.product AND d.audience = $props.audience AND d.id <> $id
          AND ($now IS NULL OR """
        + time_cmp(fine_time("d.to"), ">", fine_time("$now"))
        + ") AND "
        + time_cmp(fine_time("d.from"), "<", fine_time("$props.to"))
        + " AND "
        + time_cmp(fine_time("d.to"), ">", fine_time("$props.from"))
        + """
        WITH count(d) AS duplicates
        WHERE duplicates = 0
        MERGE (k:Campaign {id: $id})
        SET k += $props
        WITH k
        UNWIND CASE WHEN size($members) = 0 THEN [null] ELSE $members END AS m
        OPTIONAL MATCH (c:Customer {id: m.customerId})
        FOREACH (_ IN CASE WHEN c IS NULL THEN [] ELSE [1] END |
            MERGE (k)-[t:TARGETS]->(c)
            SET t.group = m.group)
        RETURN k.id AS id, count(c) AS n
        """,
        {"id": campaign_id, "props": props, "members": members, "now": now},
    )
    return int(result[0]["n"]) if result else None


async def campaigns_of_product(store: GraphStore, product: str) -> list[Row]:
    """Every campaign of ``product``: {id, name, from, to, audience (the stored filter, None
    for a campaign stored before it was kept), members (ids; only where audience is None)}."""
    return await store.read(
        """
        MATCH (k:Campaign) WHERE k.product = $product
        RETURN k.id AS id, k.name AS name, k.from AS from, k.to AS to, k.audience AS audience,
               CASE WHEN k.audience IS NULL
                    THEN [(k)-[:TARGETS]->(c:Customer) | c.id] ELSE [] END AS members
        ORDER BY id
        """,
        {"product": product},
    )


async def campaign(store: GraphStore, campaign_id: str) -> Row | None:
    rows = await store.read("MATCH (k:Campaign {id: $id}) RETURN k {.*} AS k", {"id": campaign_id})
    return rows[0]["k"] if rows else None


async def campaign_members(
    store: GraphStore, campaign_id: str, group: str | None, limit: int
) -> list[Row]:
    """[{customerId, group}] of ``group`` (None: both), the first ``limit`` by customer id."""
    return await store.read(
        """
        MATCH (:Campaign {id: $id})-[t:TARGETS]->(c:Customer)
        WHERE $group IS NULL OR t.group = $group
        RETURN c.id AS customerId, t.group AS group ORDER BY customerId LIMIT $limit
        """,
        {"id": campaign_id, "group": group, "limit": limit},
    )


async def campaign_outcomes(
    store: GraphStore, campaign_id: str, product: str, since: str, start: str, end: str
) -> list[Row]:
    """Per member: ``firstContact`` (the earliest MARKETING interaction in the window for this
    campaign, or about its product) and ``openings`` (openedAt of accounts of the product).
    The window is of stored (whole-second) times: [``start``, ``end``) for a contact about
    the product (resolvers.analytics.iso_bound of the campaign's from and to); a contact this
    campaign logged counts from ``since``, the second ``from`` falls in, as well: it was
    logged only within the window, checked to the fraction (resolvers.campaigns.log_contacts),
    and stored cut to its second."""
    params = {"id": campaign_id, "product": product, "since": since, "start": start, "end": end}
    members = await store.read(
        """
        MATCH (:Campaign {id: $id})-[t:TARGETS]->(c:Customer)
        RETURN c.id AS customerId, t.group AS group,
               [(c)-[:OWNS]->(a:Account) WHERE a.product = $product | a.openedAt] AS openings
        """,
        params,
    )
    contacts = await store.read(
        """
        MATCH (:Campaign {id: $id})-[:TARGETS]->(c:Customer)-[:HAD]->(i:Interaction)
        WHERE i.kind = 'MARKETING' AND """
        + time_range("i.time", "$since", "$end", optional=False)
        + """
        OPTIONAL MATCH (i)-[:ABOUT]->(p:Product {code: $product})
        WITH c, i, p
        WHERE i.campaignId = $id
           OR (i.campaignId IS NULL AND p IS NOT NULL AND """
        + time_cmp("i.time", ">=", "$start")
        + """)
        RETURN c.id AS customerId, i.time AS time
        """,
        params,
    )
    first: dict[str, str] = {}
    for r in contacts:
        time = str(r["time"] or "")
        if time < first.get(r["customerId"], "~"):
            first[r["customerId"]] = time
    return [{**m, "firstContact": first.get(m["customerId"])} for m in members]


async def log_marketing_contacts(store: GraphStore, rows: list[Row]) -> int:
    """rows: {id, customerId, productCode, props}: MARKETING interactions ABOUT the product.
    A row whose id exists already is left as it is (its time is the first contact): the
    number written is of new ones. The product is MERGEd by code, as the interaction import
    does: a catalogue product need not be a Product node of the graph (its properties are
    never read), yet the contact is ABOUT it and counts."""
    rows = seal_rows(store, INTERACTION, rows, owner="customerId")
    result = await store.write(
        """
        UNWIND $rows AS r
        MATCH (c:Customer {id: r.customerId})
        OPTIONAL MATCH (old:Interaction {id: r.id})
        WITH c, r, old WHERE old IS NULL
        CREATE (i:Interaction {id: r.id})
        SET i += r.props, i.customerId = r.customerId
        CREATE (c)-[:HAD]->(i)
        WITH i, r
        MERGE (p:Product {code: r.productCode})
        MERGE (i)-[:ABOUT]->(p)
        RETURN count(i) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"]) if result else 0


async def log_care(store: GraphStore, row: Row) -> bool:
    """row: {id, customerId, props} — the interaction that completes a care task. False
    (nothing written) when an interaction with this id exists already: the check and the
    write are one query, and FalkorDB runs write queries one at a time, so of concurrent
    completions exactly one writes."""
    (row,) = seal_rows(store, INTERACTION, [row], owner="customerId")
    result = await store.write(
        """
        MATCH (c:Customer {id: $r.customerId})
        OPTIONAL MATCH (old:Interaction {id: $r.id})
        WITH c, old WHERE old IS NULL
        CREATE (i:Interaction {id: $r.id})
        SET i += $r.props, i.customerId = $r.customerId
        CREATE (c)-[:HAD]->(i)
        RETURN i.id AS id
        """,
        {"r": row},
    )
    return bool(result)


__all__ = [
    "audience_candidates",
    "campaign",
    "campaign_members",
    "campaign_outcomes",
    "campaigns_of_product",
    "create_campaign",
    "log_care",
    "log_marketing_contacts",
]
