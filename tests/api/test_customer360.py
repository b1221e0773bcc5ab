"""The 360 view, search and households over HTTP against the real embedded graph."""

from __future__ import annotations

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import link_related, upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.seed import seed_family

FULL_360 = """
query($id: ID!) {
  customer(id: $id) {
    id name gender birthDate idNumber phone email address occupation incomeBand riskProfile
    createdAt maskedFields
    consents { marketing dataSharing updatedAt }
    accounts { id type product balance currency openedAt status role
               coOwners { id name } }
    household { id name members { role customer { id name } } }
    advisor { id name branch { id name city } }
    relatedCustomers { kind customer { id name } }
    transactions(first: 5) { totalCount pageInfo { hasNextPage endCursor }
                             edges { cursor node { id amount time accountId } } }
    interactions(first: 5) { totalCount pageInfo { hasNextPage endCursor }
                             edges { node { id kind time products { code name } } } }
    totalAssets segment ageBand lifecycleStage daysToNextBirthday
    churnRisk { score reasons }
  }
}
"""


async def test_full_360_view(store: GraphStore, api: Api) -> None:
    await seed_family(store, "f", accounts=2, transactions=4, interactions=3)
    body = await api.gql(FULL_360, {"id": "f-1"})
    assert "errors" not in body, body
    c = body["data"]["customer"]
    assert c["name"] == "张伟" and c["phone"] == "+8613812345678"
    assert c["consents"] == {
        "marketing": True,
        "dataSharing": False,
        "updatedAt": c["consents"]["updatedAt"],
    }
    assert c["maskedFields"] == []
    accounts = {a["id"]: a for a in c["accounts"]}
    assert set(accounts) == {"f-joint", "f-1-acc0", "f-1-acc1"}
    assert accounts["f-joint"]["role"] == "OWNER"
    assert accounts["f-joint"]["coOwners"] == [{"id": "f-2", "name": "李娜"}]
    assert accounts["f-1-acc1"]["type"] == "CREDIT_CARD"
    members = c["household"]["members"]
    assert [(m["role"], m["customer"]["id"]) for m in members] == [
        ("HEAD", "f-1"),
        ("SPOUSE", "f-2"),
    ]
    assert c["advisor"] == {
        "id": "f-adv",
        "name": "王顾问",
        "branch": {"id": "f-br", "name": "建国路支行", "city": "北京"},
    }
    assert c["relatedCustomers"] == [{"kind": "SPOUSE", "customer": {"id": "f-2", "name": "李娜"}}]
    tx = c["transactions"]
    assert tx["totalCount"] == 8 and len(tx["edges"]) == 5 and tx["pageInfo"]["hasNextPage"]
    times = [e["node"]["time"] for e in tx["edges"]]
    assert times == sorted(times, reverse=True)
    ix = c["interactions"]
    assert ix["totalCount"] == 3 and [e["node"]["id"] for e in ix["edges"]] == [
        "f-1-ix0",
        "f-1-ix1",
        "f-1-ix2",
    ]
    assert ix["edges"][0]["node"]["products"] == [{"code": "CARD1", "name": "白金卡"}]
    # joint savings 50k + wealth 50k; the credit card is a liability.
    assert c["totalAssets"] == "100000.00"
    assert c["segment"] == "MIDDLE"
    assert c["lifecycleStage"] == "LOYAL"
    assert 0 < c["churnRisk"]["score"] <= 1
    assert any("complaint" in r for r in c["churnRisk"]["reasons"])


async def test_transactions_page_through_with_cursor(store: GraphStore, api: Api) -> None:
    await seed_family(store, "p", accounts=1, transactions=7, interactions=0)
    query = """query($after: String) { customer(id: "p-1") {
        transactions(first: 3, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = (await api.gql(query, {"after": after}))["data"]["customer"]["transactions"]
        assert page["totalCount"] == 7
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 7 == len(set(seen))


async def test_unknown_customer_is_null_with_not_found(store: GraphStore, api: Api) -> None:
    body = await api.gql('{ customer(id: "nobody") { id name } }')
    assert body["data"]["customer"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await api.gql('{ household(id: "nohh") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_household_query(store: GraphStore, api: Api) -> None:
    await seed_family(store, "h")
    body = await api.gql('{ household(id: "h-hh") { id name members { role customer { id } } } }')
    assert body["data"]["household"]["name"] == "张家"
    assert [m["customer"]["id"] for m in body["data"]["household"]["members"]] == ["h-1", "h-2"]


async def test_search_by_name_id_and_phone(store: GraphStore, api: Api) -> None:
    await seed_family(store, "s")
    query = """query($q: String) { customers(search: $q, first: 10) {
        totalCount edges { node { id } } } }"""

    async def ids(q: str | None) -> list[str]:
        conn = (await api.gql(query, {"q": q}))["data"]["customers"]
        return [e["node"]["id"] for e in conn["edges"]]

    assert await ids("李") == ["s-2"]
    assert await ids("s-1") == ["s-1"]
    assert await ids("139 1234 5678") == ["s-2"]
    assert await ids("+86 138-1234-5678") == ["s-1"]
    assert await ids(None) == ["s-1", "s-2"]
    assert await ids("nobody") == []


async def test_customers_pagination_and_segment(store: GraphStore, api: Api) -> None:
    await seed_family(store, "a", balance=600_000.0)  # 1.2M of assets each: HIGH
    await seed_family(store, "b", balance=1_000.0)  # MASS
    body = await api.gql(
        """{ customers(segment: HIGH) { totalCount edges { node { id segment } } } }"""
    )
    nodes = [e["node"] for e in body["data"]["customers"]["edges"]]
    assert nodes == [{"id": "a-1", "segment": "HIGH"}, {"id": "a-2", "segment": "HIGH"}]
    query = """query($a: String) { customers(first: 3, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
    page1 = (await api.gql(query))["data"]["customers"]
    assert page1["totalCount"] == 4 and page1["pageInfo"]["hasNextPage"]
    after = page1["pageInfo"]["endCursor"]
    page2 = (await api.gql(query, {"a": after}))["data"]["customers"]
    assert [e["node"]["id"] for e in page2["edges"]] == ["b-2"]
    assert not page2["pageInfo"]["hasNextPage"]


async def test_first_over_cap_is_bad_user_input(store: GraphStore, api: Api) -> None:
    body = await api.gql("{ customers(first: 101) { totalCount } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"
    body = await api.gql('{ customers(after: "garbage!") { totalCount } }')
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_related_customers_say_what_each_one_is_to_this_customer(
    store: GraphStore, api: Api
) -> None:
    # QA finding: links were read in either direction with their stored kind, so a parent
    # linked both ways (as the demo links them) was both CHILD and PARENT of their child.
    people = [{"id": f"r-{n}", "props": {"name": f"客户{n}"}} for n in "pcgs"]
    await upsert_customers(store, people)
    await link_related(
        store,
        [
            {"fromId": "r-p", "toId": "r-c", "kind": "CHILD"},
            {"fromId": "r-c", "toId": "r-p", "kind": "PARENT"},
            {"fromId": "r-c", "toId": "r-g", "kind": "GUARANTOR"},
            {"fromId": "r-p", "toId": "r-s", "kind": "SPOUSE"},
        ],
    )
    related = "relatedCustomers { kind customer { id } }"
    expected = {
        "r-p": [("CHILD", "r-c"), ("SPOUSE", "r-s")],
        "r-c": [("GUARANTOR", "r-g"), ("PARENT", "r-p")],
        "r-g": [("GUARANTEED", "r-c")],
        "r-s": [("SPOUSE", "r-p")],
    }
    # Through the relatedCustomers loader alone, and through the 360 prefetch's projection.
    for selection in (related, f"accounts {{ id }} household {{ id }} advisor {{ id }} {related}"):
        for cid, links in expected.items():
            body = await api.gql(f'{{ customer(id: "{cid}") {{ {selection} }} }}')
            assert "errors" not in body, body
            found = body["data"]["customer"]["relatedCustomers"]
            got = sorted((r["kind"], r["customer"]["id"]) for r in found)
            assert got == links, (selection[:20], cid, got)


async def test_assets_in_several_currencies_have_no_total(store: GraphStore, api: Api) -> None:
    # QA finding: totalAssets and segment added USD to CNY at face value.
    # Session 12 finding: fx-3's accounts, all in USD, were compared with the (CNY) thresholds.
    customers = [{"id": f"fx-{n}", "props": {"name": "外币"}} for n in (1, 2, 3)]
    await upsert_customers(store, customers)
    rows = [
        ("fx-1", "fx-1a", 100.0, "CNY"),
        ("fx-1", "fx-1b", 2_000_000.0, "USD"),
        ("fx-2", "fx-2a", 2_000_000.0, "CNY"),
        ("fx-3", "fx-3a", 1_500_000.0, "USD"),
        ("fx-3", "fx-3b", 500_000.0, "usd"),
    ]
    await upsert_accounts(
        store,
        [
            {"id": aid, "customerId": cid,
             "props": {"type": "SAVINGS", "balance": balance, "currency": currency}}
            for cid, aid, balance, currency in rows
        ],
    )  # fmt: skip
    for cid, expected in (
        ("fx-1", (None, None)),
        ("fx-2", ("2000000.00", "HIGH")),
        ("fx-3", (None, None)),
    ):
        body = await api.gql(f'{{ customer(id: "{cid}") {{ totalAssets segment }} }}')
        c = body["data"]["customer"]
        assert (c["totalAssets"], c["segment"]) == expected, (cid, c)
    # The graph's sums (segment filter, count) follow the same rule.
    body = await api.gql(
        '{ customers(segment: HIGH, search: "外币") { totalCount edges { node { id } } } }'
    )
    assert "errors" not in body, body
    page = body["data"]["customers"]
    assert [e["node"]["id"] for e in page["edges"]] == ["fx-2"] and page["totalCount"] == 1
    body = await api.gql("{ customers(segment: HIGH) { totalCount edges { node { id } } } }")
    listed = [e["node"]["id"] for e in body["data"]["customers"]["edges"]]
    assert "fx-2" in listed and "fx-1" not in listed and "fx-3" not in listed
    assert body["data"]["customers"]["totalCount"] == len(listed)
