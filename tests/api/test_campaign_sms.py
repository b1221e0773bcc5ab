"""SMS as a campaign and interaction channel (QA probe of session 22: createCampaign refused
channel "SMS", the commonest marketing channel of China's banks), on the demo book in the
real graph with the real Rego engine: an SMS campaign's audience and contacts follow the
marketing consent as every channel's do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.store import GraphStore
from hub.demo import seed_demo
from tests.api.conftest import Api
from tests.api.test_campaigns_qa import CONTACT, CREATE, UPSERT, groups, spec

READ = "query C($id: ID!) { campaign(id: $id) { channel contacted } }"
LOG = """mutation L($i: InteractionInput!) { logInteraction(input: $i) { id channel kind } }"""


async def test_an_sms_campaign_is_created_and_its_contacts_logged_as_sms(
    store: GraphStore, marketing: Api, agent: Api
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    sms = {**spec(now - timedelta(days=1), now + timedelta(days=30)), "channel": "sms"}
    made = await marketing.gql(CREATE, {"input": sms})
    assert not made.get("errors"), made
    campaign = made["data"]["createCampaign"]
    treatment = (await groups(store, campaign["id"]))["TREATMENT"]
    assert len(treatment) >= 3
    # A member who withdraws marketing consent is not texted (the policy denies them).
    withdrawn = treatment[0]
    body = await agent.gql(UPSERT, {"i": {"id": withdrawn, "consentMarketing": False}})
    assert not body.get("errors"), body
    logged = await marketing.gql(CONTACT, {"id": campaign["id"]})
    assert logged == {"data": {"logCampaignContacts": len(treatment) - 1}}, logged
    read = await marketing.gql(READ, {"id": campaign["id"]})
    assert read["data"]["campaign"] == {"channel": "SMS", "contacted": len(treatment) - 1}
    rows = await store.read(
        "MATCH (c:Customer)-[:HAD]->(i:Interaction {campaignId: $id}) "
        "RETURN c.id AS customer, i.channel AS channel, i.kind AS kind",
        {"id": campaign["id"]},
    )
    assert sorted(r["customer"] for r in rows) == treatment[1:]
    assert {(r["channel"], r["kind"]) for r in rows} == {("SMS", "MARKETING")}


async def test_an_sms_interaction_is_logged_and_another_channel_refused(
    store: GraphStore, agent: Api
) -> None:
    await seed_demo(store, customers=5, seed=42, progress=False)
    customer = (await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id LIMIT 1"))[0]
    sms = {"customerId": customer["id"], "channel": "SMS", "kind": "MARKETING"}
    body = await agent.gql(LOG, {"i": sms})
    assert not body.get("errors"), body
    assert body["data"]["logInteraction"]["channel"] == "SMS"
    body = await agent.gql(LOG, {"i": {**sms, "channel": "FAX"}})
    assert body["data"] is None and "channel" in body["errors"][0]["message"], body
