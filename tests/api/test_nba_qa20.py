"""Next best action: the QA findings of session 20 about offers (closed accounts counted as
held, no age limits, campaign audiences without suitability, contacts about a product with no
Product node, recommendations' audit, the same campaign created twice), on the demo book in
the real graph with the real Rego engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.repositories.households import upsert_households
from graph.store import GraphStore
from hub.demo import seed_demo
from insights.catalogue import PACKAGED_FILE
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from shared.settings import Settings
from shared.validators import cn_id_checksum
from tests.api.conftest import Api, codes, serve
from tests.api.seed import profile

RECS = """
query Recs($id: ID!) { customer(id: $id) {
  recommendations(first: 10) { product { code } kind reasons } } }
"""
NOW = datetime.now(UTC).replace(microsecond=0)


def account(cid: str, n: int, product: str, type_: str, status: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "type": type_,
        "product": product,
        "balance": 0.0 if status == "CLOSED" else 20_000.0,
        "currency": "CNY",
        "openedAt": (NOW - timedelta(days=900 - n)).date().isoformat(),
        "status": status,
    }
    if status == "CLOSED":
        props["closedAt"] = (NOW - timedelta(days=30)).date().isoformat()
    return {"id": f"{cid}-a{n}", "customerId": cid, "props": props}


async def closed_scenario(store: GraphStore) -> tuple[str, str]:
    """Two customers of one household on the demo book: x with the savings family's lowest
    tier and 朝朝宝 closed and four products open, y with the mortgage closed and 稳健理财
    open."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    x, y = "QA20-X", "QA20-Y"
    await upsert_customers(store, [
        {"id": cid, "props": {**profile(cid, name, phone), "incomeBand": "10-20万"}}
        for cid, name, phone in ((x, "赵敏", "+8613800000001"), (y, "钱进", "+8613800000002"))
    ])  # fmt: skip
    await upsert_households(store, [
        {"id": "QA20-H", "props": {"name": "赵家"}, "customerId": x, "role": "HEAD"},
        {"id": "QA20-H", "props": {}, "customerId": y, "role": "SPOUSE"},
    ])  # fmt: skip
    await upsert_accounts(store, [
        # x: the savings family's lowest tier and 朝朝宝 closed, four products open.
        account(x, 1, "SAV-BASIC", "SAVINGS", "CLOSED"),
        account(x, 2, "MMF-ZZB", "WEALTH", "CLOSED"),
        account(x, 3, "CHK-PAYROLL", "CHECKING", "ACTIVE"),
        account(x, 4, "CHK-BIZ", "CHECKING", "DORMANT"),
        account(x, 5, "CC-GOLD", "CREDIT_CARD", "ACTIVE"),
        account(x, 6, "LN-CONS", "LOAN", "ACTIVE"),
        # y: the mortgage closed, a wealth product open.
        account(y, 1, "LN-MORT", "LOAN", "CLOSED"),
        account(y, 2, "WM-STABLE", "WEALTH", "ACTIVE"),
    ])  # fmt: skip
    return x, y


async def test_closed_accounts_are_not_held(store: GraphStore, api: Api) -> None:
    """M1: a CLOSED account counted as held: its product was never offered again, it made an
    UP_SELL of the family's higher tiers, and a household member's closed account gave "1 of
    your 1 household member(s) hold 个人住房贷款"."""
    x, _ = await closed_scenario(store)
    body = await api.gql(RECS, {"id": x})
    assert not body.get("errors"), body
    recs = {r["product"]["code"]: r for r in body["data"]["customer"]["recommendations"]}
    # 稳健 (R3 at most): every suitable product not held, the closed ones among them.
    assert set(recs) == {
        "SAV-BASIC", "SAV-TERM", "SAV-CD", "CC-PLAT", "LN-MORT", "LN-BIZ", "MMF-ZZB", "WM-STABLE"
    }  # fmt: skip
    # A higher tier of a family held only by a closed account is no up-sell; of an open one is.
    assert recs["SAV-TERM"]["kind"] == recs["SAV-CD"]["kind"] == "CROSS_SELL"
    assert recs["CC-PLAT"]["kind"] == "UP_SELL"
    reasons = [t for r in recs.values() for t in r["reasons"]]
    assert "1 of your 1 household member(s) hold 稳健理财30天" in reasons
    assert not any("household member(s) hold 个人住房贷款" in t for t in reasons), reasons


async def test_the_audit_notes_what_the_reasons_reveal(
    store: GraphStore, api: Api, data_dir: Path
) -> None:
    """M6: the record of a ``recommendations { reasons }`` read noted nothing revealed, though
    a reason quotes the customer's income and age bands, assets and the household members'
    holdings (and the members were named with empty fields)."""
    x, y = await closed_scenario(store)
    body = await api.gql(RECS, {"id": x})
    assert not body.get("errors"), body
    reasons = [t for r in body["data"]["customer"]["recommendations"] for t in r["reasons"]]
    assert any("household member" in r for r in reasons), reasons
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    (read,) = [r for r in records if r["operation"] == "Recs"]
    assert "recommendations.reasons" in read["fields"][x]["revealed"], read["fields"]
    if any("age band" in r for r in reasons):
        assert {"ageBand", "incomeBand"} <= set(read["fields"][x]["revealed"])
    assert read["fields"][y]["revealed"] == ["recommendations.household"], read["fields"]


# Mid-year, so a December birthday has not passed yet: born 2008-12-16 is 17, though 18 is the
# age reached this calendar year.
AS_OF = date(2026, 6, 30)
LIMITED = {"CC-GOLD", "CC-PLAT", "LN-MORT", "LN-CONS", "LN-BIZ"}
AGED = {  # id: (birth date or None, risk profile or None)
    "QA20-MINOR": ("2008-12-16", "稳健"),
    "QA20-ADULT": ("1990-03-01", "稳健"),
    "QA20-OLD": ("1950-03-01", "稳健"),
    "QA20-NOBIRTH": (None, "稳健"),
    "QA20-SAFE": ("1990-03-01", "保守"),
    "QA20-BOLD": ("1990-03-01", "激进"),
    "QA20-NOPROFILE": ("1990-03-01", None),
}
CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id audienceCount } }
"""
CONTACT = "mutation Contact($id: ID!) { logCampaignContacts(id: $id) }"


async def aged_customers(store: GraphStore) -> None:
    """AGED, each consenting to marketing and holding only 活期储蓄."""
    rows = []
    for n, (cid, (born, risk)) in enumerate(sorted(AGED.items())):
        props = {**profile(cid, "孙" + "甲乙丙丁戊己庚"[n], f"+86138000001{n:02d}")}
        props["idNumber"] = None if born is None else id_number(born)
        props["birthDate"], props["riskProfile"] = born, risk
        rows.append({"id": cid, "props": {k: v for k, v in props.items() if v is not None}})
    await upsert_customers(store, rows)
    await upsert_accounts(store, [account(cid, 1, "SAV-BASIC", "SAVINGS", "ACTIVE")
                                  for cid in AGED])  # fmt: skip


def id_number(born: str) -> str:
    first17 = f"110105{born.replace('-', '')}002"
    return first17 + cn_id_checksum(first17)


def window(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "qa20",
        "product": "MMF-ZZB",
        "channel": "APP",
        "audience": {},
        "controlShare": 0.0,
        "from": at(-29),
        "to": at(31),
        **overrides,
    }


def at(days: int) -> str:
    """The time ``days`` from now: a campaign runs, and takes contacts, by the real clock
    (C360_AS_OF moves only the figures: its ages, the recommender's)."""
    return f"{NOW + timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"


async def members(store: GraphStore, campaign_id: str) -> set[str]:
    rows = await store.read(
        "MATCH (:Campaign {id: $id})-[:TARGETS]->(c:Customer) RETURN c.id AS id",
        {"id": campaign_id},
    )
    return {r["id"] for r in rows}


async def test_products_are_offered_only_within_their_age_limits(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """M2: a 17-year-old was recommended cards and loans, a 76-year-old loans: the catalogue
    had no age limits. Now cards from 18, loans 18 to 70 (packaged), from the full birth date
    where the caller sees it, from what the year allows where only the year shows, and none
    without a birth date."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    await aged_customers(store)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    officer = make_token(["privacy_officer"], sub="po1", purpose="compliance", purposes=None)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        full, year_only = Api(client, officer), Api(client, mk)

        async def offered(api: Api, cid: str) -> set[str]:
            body = await api.gql(RECS, {"id": cid})
            assert not body.get("errors"), body
            return {r["product"]["code"] for r in body["data"]["customer"]["recommendations"]}

        assert LIMITED & await offered(full, "QA20-ADULT")  # 36: cards and loans come up
        for caller in (full, year_only):
            assert not LIMITED & await offered(caller, "QA20-MINOR")
            assert not LIMITED & await offered(caller, "QA20-NOBIRTH")
            old = await offered(caller, "QA20-OLD")
            assert "CC-GOLD" in old and not {"LN-MORT", "LN-CONS", "LN-BIZ"} & old, old

        # A campaign's minAge reads the same: 17 is not 18, whatever the birth year says.
        body = await year_only.gql(CREATE, {"input": window(audience={"minAge": 18})})
        assert not body.get("errors"), body
        targeted = await members(store, body["data"]["createCampaign"]["id"])
        assert "QA20-ADULT" in targeted and "QA20-MINOR" not in targeted
        # A campaign of an age-limited product leaves out whom it may not be offered to.
        body = await year_only.gql(CREATE, {"input": window(product="LN-CONS")})
        assert not body.get("errors"), body
        targeted = await members(store, body["data"]["createCampaign"]["id"])
        assert "QA20-ADULT" in targeted
        assert not {"QA20-MINOR", "QA20-OLD", "QA20-NOBIRTH"} & targeted


async def test_campaign_audiences_are_suitable(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """M3: a campaign for 沪深300指数基金 (R4) took 保守 (R2 at most) and 稳健 (R3) customers,
    and contacts were logged to them. The recommender's suitability rule now decides: R4 is
    for 激进 only, an unknown profile gets the lowest risk (R1) only."""
    await aged_customers(store)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        marketing = Api(client, mk)
        body = await marketing.gql(CREATE, {"input": window(product="FUND-IDX")})
        assert not body.get("errors"), body
        assert await members(store, body["data"]["createCampaign"]["id"]) == {"QA20-BOLD"}
        body = await marketing.gql(CREATE, {"input": window(product="WM-STABLE")})  # R2
        assert not body.get("errors"), body
        assert await members(store, body["data"]["createCampaign"]["id"]) == set(AGED) - {
            "QA20-NOPROFILE"
        }
        body = await marketing.gql(CREATE, {"input": window(product="MMF-ZZB")})  # R1
        assert not body.get("errors"), body
        assert await members(store, body["data"]["createCampaign"]["id"]) == set(AGED)


async def test_contacts_about_a_product_with_no_node_are_counted(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """M4: for a catalogue product with no Product node in the graph, logCampaignContacts
    logged the contacts but returned 0 and linked none ABOUT the product (MATCH dropped the
    rows). The product is MERGEd by code now, as the interaction import does."""
    await aged_customers(store)
    packaged = json.loads(PACKAGED_FILE.read_text(encoding="utf-8"))
    packaged["products"].append({"code": "WM-NEW", "name": "新理财", "category": "WEALTH",
                                 "tier": 1, "riskLevel": 1})  # fmt: skip
    own = data_dir / "bank-catalogue.json"
    own.write_text(json.dumps(packaged, ensure_ascii=False), encoding="utf-8")
    assert not await store.read("MATCH (p:Product {code: 'WM-NEW'}) RETURN p.code")
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF, catalogue=own)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        marketing = Api(client, mk)
        made = await marketing.gql(CREATE, {"input": window(product="WM-NEW")})
        assert not made.get("errors"), made
        campaign_id = made["data"]["createCampaign"]["id"]
        logged = await marketing.gql(CONTACT, {"id": campaign_id})
        assert not logged.get("errors"), logged
        assert logged["data"]["logCampaignContacts"] == len(AGED)
    about = await store.read(
        "MATCH (i:Interaction)-[:ABOUT]->(p:Product {code: 'WM-NEW'}) WHERE i.campaignId = $id "
        "RETURN count(i) AS n",
        {"id": campaign_id},
    )
    assert about[0]["n"] == len(AGED)


async def test_the_same_campaign_is_not_created_twice(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """L4: running the same createCampaign again made a second campaign with the same
    members, each contacted twice about the product in the same window. Now refused, naming
    the campaign, while its window has not ended; another window or audience is a new one."""
    await aged_customers(store)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        marketing = Api(client, mk)
        first = window(audience={"riskProfiles": ["稳健", "保守"], "notHolds": "MMF-ZZB"})
        made = await marketing.gql(CREATE, {"input": first})
        assert not made.get("errors"), made
        campaign_id = made["data"]["createCampaign"]["id"]
        # The same filter (its list in another order, a profile by its English name), an
        # overlapping window.
        same = {"notHolds": "MMF-ZZB", "riskProfiles": ["CONSERVATIVE", "稳健"]}
        again = {**first, "from": at(-15), "audience": same}
        body = await marketing.gql(CREATE, {"input": again})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert campaign_id in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["field"] == "audience"
        # Not a duplicate: a window after this one's, another audience, another product.
        for other in (
            {**first, "from": at(32), "to": at(62)},
            {**first, "audience": {"riskProfiles": ["稳健"], "notHolds": "MMF-ZZB"}},
            {**first, "product": "WM-STABLE", "audience": {"riskProfiles": ["稳健"]}},
        ):
            body = await marketing.gql(CREATE, {"input": other})
            assert not body.get("errors"), (other, body)
    campaigns = await store.read("MATCH (k:Campaign) RETURN count(k) AS n")
    assert campaigns[0]["n"] == 4
