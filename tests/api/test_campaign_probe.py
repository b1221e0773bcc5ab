"""Campaigns: the QA probe's findings on the demo hub (marketing analyst): the duplicate guard
sidestepped by equivalent audience filters, a name of invisible characters, a bad contacts
page nulling the whole campaign; in the real graph with the real Rego engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graph.repositories import campaigns as repo
from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api, codes
from tests.api.seed import profile

CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id name audienceCount } }
"""
NOW = datetime.now(UTC).replace(microsecond=0)
CAUTIOUS = ["QA24-1", "QA24-2", "QA24-3"]


def at(days: int) -> str:
    return f"{NOW + timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"


def campaign(audience: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "name": "朝朝宝 保守客群",
        "product": "MMF-ZZB",
        "channel": "APP",
        "audience": audience,
        "controlShare": 0.0,
        "from": at(-1),
        "to": at(30),
        **overrides,
    }


async def cautious_customers(store: GraphStore) -> None:
    """CAUTIOUS: 保守, born 1985, consenting to marketing, holding only 活期储蓄."""
    await upsert_customers(store, [
        {"id": cid, "props": {**profile(cid, "李" + "甲乙丙"[n], f"+8613800000{n:03d}"),
                              "riskProfile": "保守"}}
        for n, cid in enumerate(CAUTIOUS)
    ])  # fmt: skip
    await upsert_accounts(store, [
        {"id": f"{cid}-a1", "customerId": cid,
         "props": {"type": "SAVINGS", "product": "SAV-BASIC", "balance": 20_000.0,
                   "currency": "CNY", "openedAt": "2020-01-01", "status": "ACTIVE"}}
        for cid in CAUTIOUS
    ])  # fmt: skip


async def made(marketing: Api, spec: dict[str, Any]) -> dict[str, Any]:
    body = await marketing.gql(CREATE, {"input": spec})
    assert not body.get("errors"), body
    created: dict[str, Any] = body["data"]["createCampaign"]
    return created


async def assert_duplicate(marketing: Api, spec: dict[str, Any], of: str) -> None:
    body = await marketing.gql(CREATE, {"input": spec})
    assert codes(body) == ["BAD_USER_INPUT"], (spec["audience"], body)
    error = body["errors"][0]
    assert error["extensions"]["field"] == "audience", error
    assert of in error["message"], error


@pytest.mark.parametrize(
    "equivalent",
    [
        {"riskProfiles": ["保守", "保守"]},
        {"riskProfiles": ["CONSERVATIVE", "保守"]},
        {"riskProfiles": ["保守"], "minAge": 0},
        {"riskProfiles": ["保守"], "maxAge": 150},
        {"riskProfiles": ["保守", "CONSERVATIVE"], "minAge": 0, "maxAge": 150},
    ],
    ids=["repeated", "english-and-chinese", "minAge-0", "maxAge-150", "all-at-once"],
)
async def test_an_equivalent_audience_filter_is_the_same_campaign(
    store: GraphStore, marketing: Api, equivalent: dict[str, Any]
) -> None:
    """QA: ["保守"] beside ["保守","保守"], {minAge: 0} or {maxAge: 150} made a second
    campaign of the same members (contacted twice about the product): the guard keyed the
    filter as written. A repeated value and an age bound that excludes nobody no longer count."""
    await cautious_customers(store)
    first = await made(marketing, campaign({"riskProfiles": ["保守"]}))
    assert first["audienceCount"] == len(CAUTIOUS)
    await assert_duplicate(marketing, campaign(equivalent, **{"from": at(-2)}), first["id"])
    # The filter as it was written before: the other way round is the same campaign too.
    await store.clear()
    await cautious_customers(store)
    first = await made(marketing, campaign(equivalent))
    await assert_duplicate(marketing, campaign({"riskProfiles": ["保守"]}), first["id"])


async def test_a_list_of_every_value_is_no_filter(store: GraphStore, marketing: Api) -> None:
    """QA: riskProfiles naming all three profiles (or incomeBands every band of the
    catalogue) selects no fewer than leaving the filter out, and sidestepped the guard."""
    await cautious_customers(store)
    everyone = await made(marketing, campaign({}))
    for audience in (
        {"riskProfiles": ["激进", "稳健", "保守"]},
        {"riskProfiles": ["AGGRESSIVE", "BALANCED", "CONSERVATIVE", "保守"]},
        {"incomeBands": ["10万以下", "10-20万", "20-50万", "50-100万", "100万以上"]},
    ):
        await assert_duplicate(marketing, campaign(audience), everyone["id"])
    # Fewer than every value is a filter of its own, as before.
    assert (await made(marketing, campaign({"riskProfiles": ["稳健", "保守"]})))["id"]


async def test_a_campaign_stored_with_its_filter_as_written_is_still_found(
    store: GraphStore, marketing: Api
) -> None:
    """A campaign created before the guard normalised filters kept the filter as written
    (["保守","保守"], minAge 0): a new campaign of the equivalent filter is refused too."""
    await cautious_customers(store)
    written = (
        '{"holds": null, "income_bands": null, "max_age": null, "min_age": 0, '
        '"not_holds": null, "risk_profiles": ["保守", "保守"]}'
    )
    props = {"name": "old", "product": "MMF-ZZB", "channel": "APP", "from": at(-3),
             "to": at(30), "controlShare": 0.0, "audience": written, "createdBy": "mk1",
             "createdAt": at(-3)}  # fmt: skip
    assert await repo.create_campaign(store, "K-old", props, []) is not None
    await assert_duplicate(marketing, campaign({"riskProfiles": ["保守"]}), "K-old")


async def test_an_absurdly_long_filter_list_is_refused(store: GraphStore, marketing: Api) -> None:
    """QA: 40,000 copies of "保守" were read one by one into a campaign; a list longer than
    any filter needs is a mistake, refused naming the field before anything is read."""
    await cautious_customers(store)
    for name, value in (("riskProfiles", "保守"), ("incomeBands", "10-20万")):
        body = await marketing.gql(CREATE, {"input": campaign({name: [value] * 40_000})})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == name
        assert "at most" in body["errors"][0]["message"]
    rows = await store.read("MATCH (k:Campaign) RETURN count(k) AS n")
    assert rows[0]["n"] == 0


@pytest.mark.parametrize(
    "name", ["\u200b", " \u200b\u200e ", "\u202e", "\t\u2060\n", "\u3000"],
    ids=["zero-width-space", "spaced-marks", "bidi-override", "word-joiner", "ideographic-space"],
)  # fmt: skip
async def test_a_name_with_no_visible_character_is_refused(
    store: GraphStore, marketing: Api, name: str
) -> None:
    """QA: a campaign named "\\u200b" alone was created: a name nobody can read or pick out."""
    await cautious_customers(store)
    body = await marketing.gql(CREATE, {"input": campaign({}, name=name)})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "name"
    rows = await store.read("MATCH (k:Campaign) RETURN count(k) AS n")
    assert rows[0]["n"] == 0


async def test_the_name_limit_counts_the_name_as_stored(store: GraphStore, marketing: Api) -> None:
    """QA: the 200-character limit was measured before stripping, so 200 characters with a
    space around them were refused though the stored name (stripped) had 200."""
    await cautious_customers(store)
    name = "朝" * 200
    first = await made(marketing, campaign({}, name=f"  {name}\n"))
    assert first["name"] == name
    body = await marketing.gql(CREATE, {"input": campaign({}, name=name + "宝", to=at(90),
                                                          **{"from": at(60)})})  # fmt: skip
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "name"
    # A visible character among invisible ones is a name.
    assert (await made(marketing, campaign({}, name="\u200b宝", **{"from": at(91)},
                                           to=at(120))))["name"] == "\u200b宝"  # fmt: skip


CONTACTS = """
query Contacts($id: ID!, $first: Int, $after: String) { campaign(id: $id) {
  id name audienceCount contacts(first: $first, after: $after) { totalCount } } }
"""


@pytest.mark.parametrize(
    ("first", "after"), [(101, None), (10, "xyz")], ids=["first-over-cap", "foreign-cursor"]
)
async def test_a_bad_contacts_page_nulls_only_the_contacts(
    store: GraphStore, marketing: Api, first: int, after: str | None
) -> None:
    """QA: contacts(first: 101) or contacts(after: "xyz") nulled the whole campaign (its name
    and figures): contacts was non-null. Now only contacts is null, with its error, as a
    customer's lists (session 22)."""
    await cautious_customers(store)
    made_ = await made(marketing, campaign({}))
    body = await marketing.gql(CONTACTS, {"id": made_["id"], "first": first, "after": after})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["path"] == ["campaign", "contacts"], body
    answered = body["data"]["campaign"]
    assert answered == {"id": made_["id"], "name": made_["name"],
                        "audienceCount": len(CAUTIOUS), "contacts": None}  # fmt: skip
