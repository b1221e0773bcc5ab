"""Campaigns: the QA findings of session 13 (contact pages after a consent withdrawal,
conversions compared as strings, contacts logged twice or outside the window, a DateTime
without an offset, audience filters that match nobody or read a masked field), on the demo
book in the real graph with the real Rego engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.repositories.accounts import upsert_accounts
from graph.store import GraphStore
from hub.demo import seed_demo
from hub.settings import Settings
from privacy.policy_set import PACKAGED_DIR
from tests.api.conftest import Api, codes, serve

CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) {
  id from to audienceCount controlCount } }
"""
FIGURES = """
query Figures($id: ID!) { campaign(id: $id) { contacted converted controlConversionRate } }
"""
CONTACTS = """
query Contacts($id: ID!, $first: Int, $after: String) { campaign(id: $id) {
  contacts(group: TREATMENT, first: $first, after: $after) { totalCount
    pageInfo { hasNextPage endCursor } edges { node { id } } } } }
"""
CONTACT = "mutation Contact($id: ID!) { logCampaignContacts(id: $id) }"
UPSERT = "mutation U($i: CustomerInput!) { upsertCustomer(input: $i) { id } }"


def spec(start: datetime, end: datetime, **audience: Any) -> dict[str, Any]:
    return {
        "name": "朝朝宝 新客推介",
        "audience": audience or {"notHolds": "MMF-ZZB", "minAge": 25, "maxAge": 60},
        "product": "MMF-ZZB",
        "channel": "APP",
        "controlShare": 0.2,
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


async def create(api: Api, start: datetime, end: datetime) -> dict[str, Any]:
    made = await api.gql(CREATE, {"input": spec(start, end)})
    assert not made.get("errors"), made
    return made["data"]["createCampaign"]


async def groups(store: GraphStore, campaign_id: str) -> dict[str, list[str]]:
    rows = await store.read(
        "MATCH (:Campaign {id: $id})-[t:TARGETS]->(c:Customer) RETURN c.id AS id, t.group AS g",
        {"id": campaign_id},
    )
    out: dict[str, list[str]] = {"TREATMENT": [], "CONTROL": []}
    for r in rows:
        out[r["g"]].append(r["id"])
    return {g: sorted(ids) for g, ids in out.items()}


async def test_contact_pages_are_filled_after_the_privacy_decision(
    store: GraphStore, marketing: Api, agent: Api
) -> None:
    """QA finding F: after a member withdrew consent, ``contacts(first: 1)`` gave no edge,
    hasNextPage true and no endCursor, and totalCount still counted the hidden member."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    campaign = await create(marketing, now - timedelta(days=1), now + timedelta(days=30))
    treatment = (await groups(store, campaign["id"]))["TREATMENT"]
    gone = treatment[0]
    body = await agent.gql(UPSERT, {"i": {"id": gone, "consentMarketing": False}})
    assert not body.get("errors"), body
    visible = treatment[1:]

    first = await marketing.gql(CONTACTS, {"id": campaign["id"], "first": 1})
    contacts = first["data"]["campaign"]["contacts"]
    assert [e["node"]["id"] for e in contacts["edges"]] == [visible[0]]
    assert contacts["totalCount"] == len(visible)
    assert contacts["pageInfo"]["hasNextPage"] and contacts["pageInfo"]["endCursor"]

    walked: list[str] = []
    after = None
    while True:
        page = await marketing.gql(CONTACTS, {"id": campaign["id"], "first": 3, "after": after})
        contacts = page["data"]["campaign"]["contacts"]
        ids = [e["node"]["id"] for e in contacts["edges"]]
        walked += ids
        if not contacts["pageInfo"]["hasNextPage"]:
            break
        assert len(ids) == 3
        after = contacts["pageInfo"]["endCursor"]
    assert walked == visible


async def test_conversions_compare_instants(store: GraphStore, marketing: Api) -> None:
    """QA finding H: an account opened "2026-11-28" (a date) did not count for a campaign
    from 2026-11-28T00:00:00Z while "2026-11-28T09:00:00+08:00" did (strings compared)."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    campaign = await create(marketing, today, today + timedelta(days=30))
    control = (await groups(store, campaign["id"]))["CONTROL"]
    assert len(control) >= 4
    day = today.date().isoformat()
    opened = {control[0]: day, control[1]: f"{day}T09:00:00+08:00",
              control[2]: (today - timedelta(days=1)).date().isoformat()}  # fmt: skip
    await upsert_accounts(store, [
        {"id": f"CONV-{c}", "customerId": c,
         "props": {"type": "WEALTH", "product": "MMF-ZZB", "balance": 5000.0, "currency": "CNY",
                   "openedAt": at, "status": "ACTIVE"}}
        for c, at in opened.items()
    ])  # fmt: skip
    figures = (await marketing.gql(FIGURES, {"id": campaign["id"]}))["data"]["campaign"]
    # The date of the first day counts, the day before does not.
    assert figures["controlConversionRate"] == round(2 / len(control), 4)


async def test_contacts_are_logged_once_and_only_in_the_window(
    store: GraphStore, marketing: Api
) -> None:
    """QA finding I: logging twice wrote two MARKETING interactions per customer, and a
    campaign of last year accepted contacts today (then counted none of them)."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    campaign = await create(marketing, now - timedelta(days=1), now + timedelta(days=30))
    treatment = (await groups(store, campaign["id"]))["TREATMENT"]
    first = await marketing.gql(CONTACT, {"id": campaign["id"]})
    assert first["data"]["logCampaignContacts"] == len(treatment)
    again = await marketing.gql(CONTACT, {"id": campaign["id"]})
    assert not again.get("errors") and again["data"]["logCampaignContacts"] == 0
    rows = await store.read(
        "MATCH (c:Customer)-[:HAD]->(i:Interaction) WHERE i.campaignId = $id "
        "RETURN c.id AS id, count(i) AS n",
        {"id": campaign["id"]},
    )
    assert sorted(r["id"] for r in rows) == treatment and {r["n"] for r in rows} == {1}
    figures = (await marketing.gql(FIGURES, {"id": campaign["id"]}))["data"]["campaign"]
    assert figures["contacted"] == len(treatment)

    past = await create(marketing, now - timedelta(days=400), now - timedelta(days=370))
    late = await marketing.gql(CONTACT, {"id": past["id"]})
    assert codes(late) == ["BAD_USER_INPUT"] and "window" in late["errors"][0]["message"]
    assert not await store.read(
        "MATCH (i:Interaction) WHERE i.campaignId = $id RETURN i.id", {"id": past["id"]}
    )


async def test_a_datetime_without_an_offset_is_utc(store: GraphStore, marketing: Api) -> None:
    """QA finding J: ``from: "2026-11-28T00:00:00"`` (no offset) with ``to`` in UTC was an
    internal error (a naive and an aware datetime compared)."""
    await seed_demo(store, customers=60, seed=42, progress=False)
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now - timedelta(days=1)).replace(tzinfo=None)
    body = await marketing.gql(
        CREATE, {"input": {**spec(now, now + timedelta(days=30)), "from": start.isoformat()}}
    )
    assert not body.get("errors"), body
    made = body["data"]["createCampaign"]
    assert datetime.fromisoformat(made["from"]) == start.replace(tzinfo=UTC)


async def test_audience_filters_that_match_nothing_are_refused(
    store: GraphStore, marketing: Api
) -> None:
    """QA finding K: ``incomeBands: ["nope"]`` and ``holds: "NOPE"`` gave an audience of 0
    where an unknown ``product`` is refused."""
    await seed_demo(store, customers=60, seed=42, progress=False)
    now = datetime.now(UTC)
    window = (now, now + timedelta(days=30))
    for audience, field in (
        ({"incomeBands": ["nope"]}, "incomeBands"),
        ({"incomeBands": ["10万以下", "nope"]}, "incomeBands"),
        ({"holds": "NOPE"}, "holds"),
        ({"notHolds": "NOPE"}, "notHolds"),
        # Session 14: an empty list, or holding and not holding one product, matched nobody.
        ({"incomeBands": []}, "incomeBands"),
        ({"riskProfiles": []}, "riskProfiles"),
        ({"holds": "MMF-ZZB", "notHolds": "MMF-ZZB"}, "notHolds"),
    ):
        body = await marketing.gql(CREATE, {"input": spec(*window, **audience)})
        assert codes(body) == ["BAD_USER_INPUT"], (audience, body)
        assert body["errors"][0]["extensions"]["field"] == field
    fine = await marketing.gql(CREATE, {"input": spec(*window, incomeBands=["10万以下"])})
    assert not fine.get("errors") and fine["data"]["createCampaign"]["audienceCount"] > 0


async def test_unknown_risk_profiles_are_refused(store: GraphStore, marketing: Api) -> None:
    """Session 13 finding: ``riskProfiles: ["nope"]`` matched nobody without a word, where
    ``incomeBands``/``holds`` are refused. The import's vocabulary decides (its English names
    too, stored as the Chinese ones)."""
    await seed_demo(store, customers=60, seed=42, progress=False)
    now = datetime.now(UTC)
    window = (now, now + timedelta(days=30))
    for profiles in (["nope"], ["保守", "nope"]):
        body = await marketing.gql(CREATE, {"input": spec(*window, riskProfiles=profiles)})
        assert codes(body) == ["BAD_USER_INPUT"], (profiles, body)
        assert body["errors"][0]["extensions"]["field"] == "riskProfiles"
        assert "nope" in body["errors"][0]["message"]
    counts = []
    # Each in a window of its own: the same audience in an overlapping window is refused.
    later = (now + timedelta(days=31), now + timedelta(days=61))
    for profiles, when in ((["保守"], window), (["conservative"], later)):
        body = await marketing.gql(CREATE, {"input": spec(*when, riskProfiles=profiles)})
        assert not body.get("errors"), body
        counts.append(body["data"]["createCampaign"]["audienceCount"])
    assert counts[0] > 0 and counts[0] == counts[1]


async def test_an_age_filter_needs_the_birth_year(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """QA finding K: minAge/maxAge for a caller who sees birth dates redacted gave an
    audience of 0; it is a filter on a masked field (FORBIDDEN_FILTER)."""
    await seed_demo(store, customers=60, seed=42, progress=False)
    data = json.loads((PACKAGED_DIR / "data.json").read_text())
    data["c360"]["tables"]["mask_profiles"]["marketing"]["BIRTH_DATE"] = "redact"
    (data_dir / "policies").mkdir()
    (data_dir / "policies" / "data.json").write_text(json.dumps(data))
    token = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    now = datetime.now(UTC)
    async with serve(store, Settings(data_dir=data_dir, introspection=False)) as client:
        api = Api(client, token)
        body = await api.gql(CREATE, {"input": spec(now, now + timedelta(days=30))})
        assert codes(body) == ["FORBIDDEN_FILTER"], body
        assert body["errors"][0]["extensions"]["field"] == "minAge"
        plain = spec(now, now + timedelta(days=30), notHolds="MMF-ZZB")
        assert not (await api.gql(CREATE, {"input": plain})).get("errors")
