"""Next best action through the ASGI app, on the demo book in the real graph, with the real
Rego engine: recommendations with reasons (and their masking), care tasks for an advisor,
campaigns with a control group, lift, consent and a masked contact export; all audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.repositories.accounts import upsert_accounts
from graph.store import GraphStore
from hub.demo import seed_demo
from insights import churn
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from resolvers.nba import CHURN_FILE, load_histories, rule_score, write_model
from tests.api.conftest import Api
from tests.opened import opened as opened_rows

RECS = """
query Recs($after: String) { customers(first: 60, after: $after) { edges { node {
  id riskProfile accounts { product status }
  recommendations(first: 3) { product { code name } kind score reasons }
} } } }
"""
ONE = """
query One($id: ID!) { customer(id: $id) {
  id recommendations(first: 3) { product { code } kind score reasons }
  churnRisk { score reasons model }
} }
"""


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_recommendations_reasons_and_their_masking(
    store: GraphStore, officer: Api, agent: Api
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    body = await officer.gql(RECS)
    assert not body.get("errors"), body
    nodes = [e["node"] for e in body["data"]["customers"]["edges"]]
    assert len(nodes) == 60
    amount_reasoned = []
    for node in nodes:
        # A closed account is not held: its product may be offered again (session 20).
        held = {a["product"] for a in node["accounts"] if a["status"] != "CLOSED"}
        recs = node["recommendations"]
        assert len(recs) == 3 and not held & {r["product"]["code"] for r in recs}
        assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
        if node["riskProfile"] == "保守":
            assert not {"FUND-IDX", "WM-GROWTH"} & {r["product"]["code"] for r in recs}
        for r in recs:
            assert r["kind"] in ("CROSS_SELL", "UP_SELL")
            if any(x.startswith("total assets above") for x in r["reasons"]):
                assert r["kind"] == "UP_SELL"
                amount_reasoned.append(node["id"])
    peers = [x for n in nodes for r in n["recommendations"] for x in r["reasons"]]
    assert any("% of customers in your income band" in x and "age band" in x for x in peers)
    assert amount_reasoned, "the demo book has up-sells above a tier's threshold"

    # A service agent sees amounts banded: no reason quotes them, and none is used.
    cid = amount_reasoned[0]
    mine = await agent.gql(ONE, {"id": cid})
    assert not mine.get("errors"), mine
    reasons = [x for r in mine["data"]["customer"]["recommendations"] for x in r["reasons"]]
    assert reasons and not any("total assets" in x for x in reasons)
    assert mine["data"]["customer"]["churnRisk"]["reasons"] is None
    assert mine["data"]["customer"]["churnRisk"]["model"] == "rules"


async def test_churn_risk_uses_the_trained_model(
    store: GraphStore, data_dir: Path, officer: Api
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    histories = await load_histories(store, now - timedelta(days=churn.HISTORY_DAYS))
    model = churn.fit(churn.training_samples(histories, now, rule_score), now, now)
    write_model(data_dir, CHURN_FILE, model.to_json())
    active = next(h["customer"]["id"] for h in histories if churn.in_population(h, now))
    body = await officer.gql(ONE, {"id": active})
    risk = body["data"]["customer"]["churnRisk"]
    assert risk["model"].startswith("logistic-regression (trained ")
    assert 0 <= risk["score"] <= 1 and isinstance(risk["reasons"], list)
    assert len(risk["reasons"]) <= 3


TASKS = """
query Tasks($first: Int, $after: String) { advisorTasks(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id customerId kind dueDate reason suggestedAction customer { id name } } }
} }
"""
COMPLETE = """
mutation C($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { id kind summary } }
"""


async def test_an_advisors_tasks_for_the_next_14_days(
    store: GraphStore, data_dir: Path, as_role: Callable[..., Api]
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    (busiest,) = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) "
        "RETURN a.id AS id, collect(c.id) AS customers ORDER BY size(customers) DESC, id LIMIT 1"
    )
    advisor = as_role("advisor", "service", busiest["id"])
    body = await advisor.gql(TASKS, {"first": 100})
    assert not body.get("errors"), body
    tasks = [e["node"] for e in body["data"]["advisorTasks"]["edges"]]
    assert tasks and body["data"]["advisorTasks"]["totalCount"] == len(tasks)
    today = datetime.now(UTC).date()
    assert all(today.isoformat() <= t["dueDate"] <= (today + timedelta(days=14)).isoformat()
               for t in tasks)  # fmt: skip
    assert [(t["dueDate"], t["id"]) for t in tasks] == sorted(
        (t["dueDate"], t["id"]) for t in tasks
    )
    assert {t["customerId"] for t in tasks} <= set(busiest["customers"])
    assert all(t["reason"] and t["suggestedAction"] and t["customer"]["name"] for t in tasks)

    # Paging walks the same list.
    first = await advisor.gql(TASKS, {"first": 2})
    cursor = first["data"]["advisorTasks"]["pageInfo"]["endCursor"]
    rest = await advisor.gql(TASKS, {"first": 100, "after": cursor})
    ids = [e["node"]["id"] for e in first["data"]["advisorTasks"]["edges"]]
    ids += [e["node"]["id"] for e in rest["data"]["advisorTasks"]["edges"]]
    assert ids == [t["id"] for t in tasks]

    done = await advisor.gql(COMPLETE, {"id": tasks[0]["id"], "note": "已电话联系客户"})
    assert not done.get("errors"), done
    assert done["data"]["completeTask"]["kind"] == "CARE"
    again = await advisor.gql(TASKS, {"first": 100})
    assert tasks[0]["id"] not in {e["node"]["id"] for e in again["data"]["advisorTasks"]["edges"]}
    twice = await advisor.gql(COMPLETE, {"id": tasks[0]["id"], "note": "again"})
    assert codes(twice) == ["NOT_FOUND"]

    # Other advisors' customers' tasks cannot be completed; other roles see no tasks.
    other = as_role("advisor", "service", "ADV-nobody")
    assert codes(await other.gql(COMPLETE, {"id": tasks[1]["id"], "note": "x"})) == ["FORBIDDEN"]
    assert (await other.gql(TASKS, {"first": 5}))["data"]["advisorTasks"]["totalCount"] == 0
    marketing = as_role("marketing_analyst", "marketing", "mk1")
    assert codes(await marketing.gql(COMPLETE, {"id": tasks[1]["id"], "note": "x"})) == [
        "FORBIDDEN"
    ]
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    listed = [r for r in records if r["operation"] == "Tasks" and r["subject"] == busiest["id"]]
    assert listed and set(listed[0]["customer_ids"]) == {t["customerId"] for t in tasks}
    assert any(r["operation"] == "intent" and tasks[0]["id"] in json.dumps(r["details"])
               for r in records)  # fmt: skip


async def test_banded_amounts_hide_the_balance_drop_reason(
    store: GraphStore, as_role: Callable[..., Api], data_dir: Path
) -> None:
    """Task reasons follow the masking of their source (policy data, not code)."""
    from privacy.policy_set import load_policy_set  # noqa: F401  (the packaged policies)

    await seed_demo(store, customers=300, seed=42, progress=False)
    rows = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) RETURN a.id AS id, count(c) AS n "
        "ORDER BY n DESC, id LIMIT 3"
    )
    kinds: set[str] = set()
    for row in rows:
        body = await as_role("advisor", "service", row["id"]).gql(TASKS, {"first": 100})
        kinds |= {e["node"]["kind"] for e in body["data"]["advisorTasks"]["edges"]}
    assert {"MATURITY", "COMPLAINT"} <= kinds


CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) {
  id name product { code name } channel audienceCount controlCount
} }
"""
FIGURES = """
query Figures($id: ID!) { campaign(id: $id) {
  audienceCount controlCount contacted converted conversionRate controlConversionRate lift
  relativeLift
} }
"""
EXPORT = """
query Export($id: ID!, $after: String) { campaign(id: $id) {
  contacts(group: TREATMENT, first: 100, after: $after) { totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name phone email idNumber address birthDate totalAssets } } }
} }
"""
CONTACT = "mutation Contact($id: ID!) { logCampaignContacts(id: $id) }"


async def test_campaign_control_group_lift_consent_and_masked_export(
    store: GraphStore, data_dir: Path, marketing: Api, agent: Api, as_role: Callable[..., Api]
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }
    spec = {
        "name": "朝朝宝 新客推介",
        "audience": {"notHolds": "MMF-ZZB", "minAge": 25, "maxAge": 60},
        "product": "MMF-ZZB",
        "channel": "APP",
        "controlShare": 0.2,
        **window,
    }
    made = await marketing.gql(CREATE, {"input": spec})
    assert not made.get("errors"), made
    campaign = made["data"]["createCampaign"]
    cid = campaign["id"]

    # The audience: exactly the consenting customers matching the filter; nobody else.
    rows = opened_rows(
        store,
        await store.read(
            "MATCH (c:Customer) RETURN c.id AS id, c.consentMarketing AS consent, "
            "c.birthDate AS birthDate, "
            "[(c)-[:OWNS]->(a:Account) | {product: a.product, status: a.status}] AS accounts"
        ),
    )
    for r in rows:  # what is held: the open accounts' products (a CLOSED account is no holding)
        r["products"] = {a["product"] for a in r["accounts"] if a["status"] != "CLOSED"}
    expected = {
        r["id"] for r in rows
        if r["consent"] is True and "MMF-ZZB" not in r["products"]
        # Both ages the birth year allows (the age reached this year and one less) within
        # 25..60 (session 20: the marketer sees the year; a bound holds either side of the
        # birthday).
        and 26 <= now.year - int(r["birthDate"][:4]) <= 60
    }  # fmt: skip
    members = await store.read(
        "MATCH (:Campaign {id: $id})-[t:TARGETS]->(c:Customer) "
        "RETURN c.id AS id, c.consentMarketing AS consent, t.group AS grp",
        {"id": cid},
    )
    assert {m["id"] for m in members} == expected and len(expected) > 30
    assert all(m["consent"] is True for m in members)  # a non-consenting customer: never
    assert campaign["audienceCount"] == len(expected)
    control = sorted(m["id"] for m in members if m["grp"] == "CONTROL")
    treatment = sorted(m["id"] for m in members if m["grp"] == "TREATMENT")
    assert campaign["controlCount"] == len(control) == round(len(expected) * 0.2)

    # Contacts (treatment only), then simulated conversions: every 3rd contacted treatment
    # customer and every 5th control customer open 朝朝宝 in the window.
    contacted = await marketing.gql(CONTACT, {"id": cid})
    assert contacted["data"]["logCampaignContacts"] == len(treatment)
    opened = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    converts = treatment[::3] + control[::5]
    await upsert_accounts(store, [
        {"id": f"CONV-{c}", "customerId": c,
         "props": {"type": "WEALTH", "product": "MMF-ZZB", "balance": 5000.0, "currency": "CNY",
                   "openedAt": opened, "status": "ACTIVE"}}
        for c in converts
    ])  # fmt: skip
    figures = (await marketing.gql(FIGURES, {"id": cid}))["data"]["campaign"]
    rate, base = len(treatment[::3]) / len(treatment), len(control[::5]) / len(control)
    assert figures["contacted"] == len(treatment)
    assert figures["converted"] == len(treatment[::3])
    assert figures["conversionRate"] == round(rate, 4)
    assert figures["controlConversionRate"] == round(base, 4)
    assert figures["lift"] == round(rate - base, 4)
    print(f"campaign {cid}: {json.dumps(figures)}")

    # The export as marketing sees it: masked, never a raw value; audited.
    raw = {
        r["id"]: r
        for r in opened_rows(
            store,
            await store.read(
                "MATCH (c:Customer) WHERE c.id IN $ids RETURN c.id AS id, c.name AS name, "
                "c.phone AS phone, c.email AS email, c.idNumber AS idNumber, "
                "c.address AS address, c.birthDate AS birthDate",
                {"ids": treatment},
            ),
        )
    }
    exported: list[dict[str, Any]] = []
    after = None
    while True:
        page = await marketing.gql(EXPORT, {"id": cid, "after": after})
        assert not page.get("errors"), page
        contacts = page["data"]["campaign"]["contacts"]
        exported += [e["node"] for e in contacts["edges"]]
        if not contacts["pageInfo"]["hasNextPage"]:
            break
        after = contacts["pageInfo"]["endCursor"]
    assert sorted(n["id"] for n in exported) == treatment
    text = json.dumps(exported, ensure_ascii=False)
    for node in exported:
        mine = raw[node["id"]]
        assert node["idNumber"] is None
        assert node["name"] != mine["name"] and node["name"].startswith(mine["name"][0])
        assert "*" in node["phone"] and node["phone"] != mine["phone"]
        assert node["birthDate"] == mine["birthDate"][:4]
        assert node["totalAssets"] is None or "万" in node["totalAssets"]  # a band
        for field in ("name", "phone", "email", "idNumber", "address", "birthDate"):
            if mine.get(field):
                assert mine[field] not in text
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    export = [r for r in records if r["operation"] == "Export"]
    assert export and set(export[0]["customer_ids"]) >= set(treatment[:10])
    assert "phone" in export[0]["fields"][treatment[0]]["masked"]

    # A customer who withdraws consent drops out of the export at once (the policy decides).
    gone = treatment[0]
    upsert = "mutation U($i: CustomerInput!) { upsertCustomer(input: $i) { id } }"
    await agent.gql(upsert, {"i": {"id": gone, "consentMarketing": False}})
    page = await marketing.gql(EXPORT, {"id": cid})
    assert gone not in {e["node"]["id"] for e in page["data"]["campaign"]["contacts"]["edges"]}

    # Only marketing, for marketing, may run campaigns.
    advisor = as_role("advisor", "service", "ADV0001")
    assert codes(await advisor.gql(CREATE, {"input": spec})) == ["FORBIDDEN"]
    assert codes(await advisor.gql(FIGURES, {"id": cid})) == ["FORBIDDEN"]
    bad = await marketing.gql(CREATE, {"input": {**spec, "controlShare": 2}})
    assert codes(bad) == ["BAD_USER_INPUT"]
    # QA finding: an age range upside down was accepted (an audience of nobody).
    upside_down = {**spec, "audience": {"minAge": 50, "maxAge": 20}}
    bad = await marketing.gql(CREATE, {"input": upside_down})
    assert codes(bad) == ["BAD_USER_INPUT"] and "minAge" in bad["errors"][0]["message"]
