"""The repositories' own Cypher, run unchanged on every backend over a small fixed graph."""

from __future__ import annotations

from graph.migrate import count_graph
from graph.repositories import access, customer360, social
from graph.store import GraphStore
from tests.contract.small_graph import EXPECTED_COUNTS, build_small_graph


async def test_upserts_build_the_expected_graph_and_are_idempotent(cstore: GraphStore) -> None:
    await build_small_graph(cstore)
    assert await count_graph(cstore) == EXPECTED_COUNTS
    await build_small_graph(cstore)
    assert await count_graph(cstore) == EXPECTED_COUNTS


async def test_upserted_properties_read_back_through_the_360_reads(cstore: GraphStore) -> None:
    await build_small_graph(cstore)
    customers = await customer360.customers_by_id(cstore, ["C1", "C404"])
    assert customers["C1"]["name"] == "张三"
    assert customers["C1"]["consentMarketing"] is True
    assert "C404" not in customers

    accounts = await customer360.accounts_by_customer(cstore, ["C1", "C2"])
    assert [(a["id"], a["role"], a["coOwnerIds"]) for a in accounts["C2"]] == [
        ("AC1", "JOINT", ["C1"]),
        ("AC2", "OWNER", []),
    ]
    assert accounts["C1"][0]["balance"] == 120000.5

    household = await customer360.households_by_id(cstore, ["H1"])
    assert household["H1"]["members"] == [
        {"customerId": "C1", "role": "HEAD"},
        {"customerId": "C2", "role": "MEMBER"},
    ]
    advisors = await customer360.advisor_by_customer(cstore, ["C1", "C3"])
    assert advisors == {
        "C1": {
            "id": "A1",
            "name": "王经理",
            "branch": {"id": "B1", "name": "朝阳支行", "city": "北京"},
        }
    }
    related = await customer360.related_by_customer(cstore, ["C2"])
    assert related["C2"] == [{"kind": "SPOUSE", "customerId": "C1"}]


async def test_paged_reads_and_subqueries(cstore: GraphStore) -> None:
    await build_small_graph(cstore)
    pages = await customer360.transaction_pages(
        cstore, ["C1"], limit=2, after=None, time_from=None, time_to=None
    )
    assert pages["C1"].total == 2
    assert [t["id"] for t in pages["C1"].items] == ["T2", "T1"]
    ix = await customer360.interaction_pages(cstore, ["C1"], limit=5, after=None, kind=None)
    assert [(i["id"], [p["code"] for p in i["products"]]) for i in ix["C1"].items] == [
        ("I1", ["P-CARD"])
    ]
    rich = await access.search_candidates(
        cstore,
        text=None,
        name=None,
        phone=None,
        min_assets=100000,
        max_assets=None,
        with_assets=True,
        cap=10,
    )
    # C2 holds AC1 jointly; the loan is a liability and does not count.
    assert [r["id"] for r in rich] == ["C1", "C2"]
    assert (
        await access.count_matches(
            cstore, text=None, name=None, phone=None, min_assets=100000, max_assets=None
        )
        == 2
    )


async def test_social_reads(cstore: GraphStore) -> None:
    await build_small_graph(cstore)
    total, posts = await social.search_mentions(cstore, {"brand": "工商银行"}, 0, 10)
    assert (total, [p["postId"] for p in posts]) == (1, ["3"])
    total, posts = await social.search_mentions(cstore, None, 1, 1)
    assert (total, [p["postId"] for p in posts]) == (3, ["2"])
    trend = await social.trend_rows(cstore, social.filter_params(None), 10)
    assert [(r["bucket"], r["count"]) for r in trend] == [
        ("2025-03-01", 1),
        ("2025-03-02", 1),
        ("2025-03-03", 1),
    ]
    mine = await social.customer_posts(cstore, ["C1", "C3"], 10)
    assert mine["C1"][0] == 2
    assert mine["C3"] == (0, [])
    assert await social.existing_post_keys(
        cstore, [{"platform": "x", "postId": "1"}, {"platform": "x", "postId": "9"}]
    ) == {("x", "1")}


async def test_upsert_posts_links_every_row_of_a_batch(cstore: GraphStore) -> None:
    rows = [
        {
            "platform": "x",
            "postId": str(n),
            "ingestedAt": "2025-03-05T00:00:00Z",
            "props": {"text": "招商银行", "createdAt": f"2025-03-0{n}T12:00:00Z"},
            "author": {"handle": f"h{n}", "props": {"followers": n}},
            "brands": ["招商银行", f"品牌{n}"],
            "products": [],
        }
        for n in (1, 2, 3)
    ]
    assert await social.upsert_posts(cstore, rows) == 3
    counts = await count_graph(cstore)
    assert counts["(:SocialAccount)-[:POSTED]->(:Post)"] == 3
    assert counts["(:Post)-[:MENTIONS]->(:Brand)"] == 6
