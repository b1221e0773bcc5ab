"""What the audit log says about reads that hand out data (session 13, QA items 4-6).

A related record the caller may not see is left out of a successful read: the read is "ok",
not "denied" (the data subject's export and auditors filtering on ok must see it). A campaign
records the customers it targets, and the export lists the campaign. Satisfaction windows are
whole months, so two windows half a day apart cannot be subtracted to one response.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.repositories.customers import upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api
from tests.api.seed import profile, seed_family

HOUSEHOLD = """query Household {
  customer(id: "q-1") { id name household { members { customer { id name } } } }
}"""
CREATE = """mutation Create($input: CampaignInput!) {
  createCampaign(input: $input) { id audienceCount } }"""
EXPORT = "query Export($id: ID!) { customerExport(customerId: $id) }"
REPORT = """query Report($from: DateTime!, $to: DateTime!) { satisfaction(from: $from, to: $to) {
  from to months { month responses csat } } }"""


def trail(data_dir: Path) -> list[dict[str, Any]]:
    return AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()


async def test_a_member_left_out_of_a_household_is_not_a_denied_read(
    store: GraphStore, data_dir: Path, as_role: Callable[..., Api]
) -> None:
    await seed_family(store, "q")
    # A third member another advisor manages: the family's advisor may not see them.
    await upsert_customers(
        store, [{"id": "q-3", "props": profile("q-3", "赵敏", "+8613700000000"),
                 "advisorId": "other-adv"}]
    )  # fmt: skip
    await upsert_households(
        store, [{"id": "q-hh", "props": {}, "customerId": "q-3", "role": "CHILD"}]
    )
    advisor = as_role("advisor", "service", "q-adv")
    body = await advisor.gql(HOUSEHOLD)
    assert not body.get("errors"), body
    members = body["data"]["customer"]["household"]["members"]
    assert sorted(m["customer"]["id"] for m in members) == ["q-1", "q-2"]

    (record,) = [r for r in trail(data_dir) if r["operation"] == "Household"]
    assert record["outcome"] == "ok", record
    assert record["customer_ids"] == ["q-1", "q-2"]  # the hidden member is not named

    # A request that refuses the caller is still denied.
    refused = await advisor.gql('query Other { customer(id: "q-3") { id } }')
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    (other,) = [r for r in trail(data_dir) if r["operation"] == "Other"]
    assert other["outcome"] == "denied"


async def test_a_campaign_records_whom_it_targets_and_the_export_lists_it(
    store: GraphStore, data_dir: Path, marketing: Api, officer: Api
) -> None:
    await seed_family(store, "q")
    now = datetime.now(UTC)
    spec = {
        "name": "白金卡 推介",
        "audience": {"riskProfiles": ["稳健"]},
        "product": "CC-PLAT",
        "channel": "APP",
        "controlShare": 0.0,
        "from": now.isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }
    made = await marketing.gql(CREATE, {"input": spec})
    assert not made.get("errors"), made
    campaign = made["data"]["createCampaign"]
    assert campaign["audienceCount"] == 2

    records = [r for r in trail(data_dir) if r["subject"] == "mk1"]
    intent = [r for r in records if r["details"].get("createCampaign") == campaign["id"]]
    request = [r for r in records if r["operation"] == "Create"]
    assert [r["customer_ids"] for r in intent + request] == [["q-1", "q-2"]] * 2

    body = await officer.gql(EXPORT, {"id": "q-1"})
    assert not body.get("errors"), body
    exported = body["data"]["customerExport"]
    assert [(c["id"], c["name"], c["group"]) for c in exported["campaigns"]] == [
        (campaign["id"], "白金卡 推介", "TREATMENT")
    ]
    history = [(h["subject"], h["operation"], h["outcome"]) for h in exported["accessHistory"]]
    assert ("mk1", "Create", "ok") in history, history


async def test_satisfaction_windows_inside_a_month_cannot_be_differenced(
    store: GraphStore, marketing: Api
) -> None:
    await seed_family(store, "q", interactions=0)
    # Six unhappy responses early in a past month, then one happy one at 06:00 on the 13th.
    times = [f"2025-03-0{d}T08:00:00Z" for d in range(1, 7)] + ["2025-03-13T06:00:00Z"]
    await upsert_interactions(store, [
        {"id": f"qs{i}", "customerId": "q-1", "productCode": None,
         "props": {"kind": "SURVEY", "channel": "APP", "time": t, "summary": "s",
                   "satisfaction": 5 if i == 6 else 1}}
        for i, t in enumerate(times)
    ])  # fmt: skip
    start = "2025-03-01T00:00:00Z"
    before = await marketing.gql(REPORT, {"from": start, "to": "2025-03-13T00:00:00Z"})
    after = await marketing.gql(REPORT, {"from": start, "to": "2025-03-13T12:00:00Z"})
    assert not before.get("errors") and not after.get("errors"), (before, after)
    # Both answers are the whole month's: the same figures, nothing to subtract.
    assert before["data"] == after["data"]
    # The answer says which window it covers.
    covered = after["data"]["satisfaction"]
    assert (covered["from"], covered["to"]) == (
        "2025-03-01T00:00:00+00:00",
        "2025-04-01T00:00:00+00:00",
    )
    (month,) = after["data"]["satisfaction"]["months"]
    assert month == {"month": "2025-03", "responses": 7, "csat": round(1 / 7, 4)}
