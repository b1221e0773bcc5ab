"""Session 13 gap: createCampaign named its whole audience in one intent and one request record
(~55 bytes a customer: ~55 MB each for a book-wide audience of a million). An audience larger
than C360_AUDIT_CUSTOMERS_PER_RECORD is now named over several records, one chain entry each,
on the real audit log: every member is found by customer id, the chain verifies, and nothing
is stored unless every intent part is durable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.store import GraphStore
from hub.cli import app as cli
from hub.demo import seed_demo
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from shared.settings import AUDIT_CUSTOMERS_PER_RECORD
from tests.api.conftest import Api, codes
from tests.faults.test_audit_disk import file_size_limit

PER_RECORD = 7

CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id audienceCount } }
"""
CONTACT = "mutation Contact($id: ID!) { logCampaignContacts(id: $id) }"
EVENTS = """
query Events($c: String) { auditEvents(filter: {customerId: $c}, first: 100) {
  edges { node { requestId operation outcome customerIds } } } }
"""


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, introspection=False, audit_customers_per_record=PER_RECORD)


def spec(after_days: int = 0) -> dict[str, Any]:
    """A campaign starting ``after_days`` from now (the same audience in an overlapping
    window is refused: each test campaign its own window)."""
    now = datetime.now(UTC) + timedelta(days=after_days)
    return {
        "name": "朝朝宝 全量推介",
        "audience": {"notHolds": "MMF-ZZB"},
        "product": "MMF-ZZB",
        "channel": "APP",
        "controlShare": 0.2,
        "from": now.isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }


async def members(store: GraphStore, campaign_id: str, group: str | None = None) -> list[str]:
    rows = await store.read(
        "MATCH (:Campaign {id: $id})-[t:TARGETS]->(c:Customer) RETURN c.id AS id, t.group AS g",
        {"id": campaign_id},
    )
    return sorted(r["id"] for r in rows if group is None or r["g"] == group)


def assert_parts(records: list[dict[str, Any]], named: list[str]) -> None:
    """``records`` name exactly ``named``, each customer once, in parts of at most PER_RECORD
    that say which part of how many they are."""
    parts = -(-len(named) // PER_RECORD)
    assert len(records) == parts > 1
    assert sorted(r["details"]["part"] for r in records) == list(range(1, parts + 1))
    assert {r["details"]["parts"] for r in records} == {parts}
    assert all(len(r["customer_ids"]) <= PER_RECORD for r in records)
    assert sorted(c for r in records for c in r["customer_ids"]) == named
    assert len({r["request_id"] for r in records}) == 1


async def test_a_large_audience_is_named_over_several_records(
    store: GraphStore, data_dir: Path, marketing: Api, officer: Api
) -> None:
    await seed_demo(store, customers=200, seed=42, progress=False)
    made = await marketing.gql(CREATE, {"input": spec()})
    assert not made.get("errors"), made
    campaign = made["data"]["createCampaign"]
    audience = await members(store, campaign["id"])
    assert len(audience) == campaign["audienceCount"] > 3 * PER_RECORD

    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    records = log.read()
    intents = [r for r in records if r["details"].get("createCampaign") == campaign["id"]]
    assert {r["outcome"] for r in intents} == {"intent"}
    assert {r["details"]["audience"] for r in intents} == {len(audience)}
    assert_parts(intents, audience)
    request_id = intents[0]["request_id"]
    closing = [r for r in records if r["operation"] == "Create"]
    assert {r["outcome"] for r in closing} == {"ok"}
    assert_parts(closing, audience)
    assert closing[0]["request_id"] == request_id
    # Every intent part is in the chain before the request's own records.
    assert max(r["seq"] for r in intents) < min(r["seq"] for r in closing)

    # Each member is found by customer id: one intent part and one request part name them.
    for cid in audience:
        found, _ = log.query(customer=cid)
        assert sorted(r["outcome"] for r in found if r["request_id"] == request_id) == [
            "intent",
            "ok",
        ], cid
    env = {"C360_DATA_DIR": str(data_dir)}
    for cid in (audience[0], audience[len(audience) // 2], audience[-1]):
        body = await officer.gql(EVENTS, {"c": cid})
        assert not body.get("errors"), body
        nodes = [e["node"] for e in body["data"]["auditEvents"]["edges"]]
        mine = [n for n in nodes if n["requestId"] == request_id]
        assert sorted(n["outcome"] for n in mine) == ["intent", "ok"], nodes
        assert all(cid in n["customerIds"] for n in mine)
        shown = CliRunner().invoke(cli, ["audit", "show", "--customer", cid, "--json"], env=env)
        assert shown.exit_code == 0, shown.output
        rows = [json.loads(line) for line in shown.output.splitlines() if line.startswith("{")]
        assert sorted(r["outcome"] for r in rows if r["request_id"] == request_id) == [
            "intent",
            "ok",
        ]

    # Logging the contacts names the treatment group in parts too.
    contacted = await marketing.gql(CONTACT, {"id": campaign["id"]})
    assert not contacted.get("errors"), contacted
    treatment = await members(store, campaign["id"], "TREATMENT")
    assert contacted["data"]["logCampaignContacts"] == len(treatment)
    records = log.read()
    assert_parts(
        [r for r in records if r["details"].get("logCampaignContacts") == campaign["id"]],
        treatment,
    )
    assert_parts([r for r in records if r["operation"] == "Contact"], treatment)

    verified = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert verified.exit_code == 0 and f"OK {len(records)} records" in verified.output, (
        verified.output
    )


async def test_no_campaign_is_stored_unless_every_intent_part_is(
    store: GraphStore, data_dir: Path, marketing: Api
) -> None:
    await seed_demo(store, customers=200, seed=42, progress=False)
    first = await marketing.gql(CREATE, {"input": spec()})
    assert not first.get("errors"), first
    log_path = data_dir / "audit" / "audit.log"
    # Room for about one intent part of the next campaign, not for all of them.
    with file_size_limit(log_path.stat().st_size + 1500):
        body = await marketing.gql(CREATE, {"input": spec(31)})
    assert body["data"] is None and codes(body) == ["AUDIT_UNAVAILABLE"], body
    stored = await store.read("MATCH (k:Campaign) RETURN k.id AS id")
    assert [r["id"] for r in stored] == [first["data"]["createCampaign"]["id"]]

    again = await marketing.gql(CREATE, {"input": spec(31)})
    assert not again.get("errors"), again
    result = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).verify()
    assert result.ok, result.reason


def test_one_record_names_at_most_ten_thousand_customers_by_default() -> None:
    assert AUDIT_CUSTOMERS_PER_RECORD == 10_000
    field = Settings.model_fields["audit_customers_per_record"]
    assert field.default == AUDIT_CUSTOMERS_PER_RECORD
