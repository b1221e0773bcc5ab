"""A small fixed graph built only through the repositories' own upserts (shared by the
contract and migration tests), with the counts it must produce on every backend."""

from __future__ import annotations

from graph.repositories.accounts import upsert_accounts, upsert_holdings, upsert_transactions
from graph.repositories.advisors import upsert_advisors, upsert_products
from graph.repositories.customers import link_related, upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.repositories.social import link_social_accounts, upsert_posts
from graph.store import GraphStore

EXPECTED_COUNTS: dict[str, int] = {
    "Customer": 3,
    "Household": 1,
    "Account": 3,
    "Transaction": 4,
    "Interaction": 2,
    "Advisor": 2,
    "Branch": 1,
    "Product": 2,
    "SocialAccount": 2,
    "Post": 3,
    "Brand": 2,
    "(:Customer)-[:MEMBER_OF]->(:Household)": 2,
    "(:Customer)-[:OWNS]->(:Account)": 4,
    "(:Account)-[:HAS_TRANSACTION]->(:Transaction)": 4,
    "(:Customer)-[:HAD]->(:Interaction)": 2,
    "(:Interaction)-[:ABOUT]->(:Product)": 1,
    "(:Customer)-[:MANAGED_BY]->(:Advisor)": 2,
    "(:Advisor)-[:WORKS_AT]->(:Branch)": 2,
    "(:Customer)-[:RELATED_TO]->(:Customer)": 2,
    "(:Customer)-[:HAS_SOCIAL]->(:SocialAccount)": 1,
    "(:SocialAccount)-[:POSTED]->(:Post)": 3,
    "(:Post)-[:MENTIONS]->(:Brand)": 4,
    "(:Post)-[:MENTIONS]->(:Product)": 1,
}


async def build_small_graph(store: GraphStore) -> None:
    """Idempotent: running it again leaves the graph as it was."""
    await upsert_advisors(
        store,
        [
            {
                "id": "A1",
                "props": {"name": "王经理"},
                "branchId": "B1",
                "branch": {"name": "朝阳支行", "city": "北京"},
            },
            {"id": "A2", "props": {"name": "李经理", "title": "VP"}, "branchId": "B1"},
        ],
    )
    await upsert_products(
        store,
        [
            {"code": "P-CARD", "props": {"name": "白金信用卡", "category": "CARD"}},
            {"code": "P-FUND", "props": {"name": "稳健基金", "category": "FUND"}},
        ],
    )
    await upsert_customers(
        store,
        [
            {
                "id": "C1",
                "props": {
                    "name": "张三",
                    "phone": "+8613812345678",
                    "createdAt": "2024-01-02T03:04:05Z",
                    "consentMarketing": True,
                },
                "advisorId": "A1",
            },
            {"id": "C2", "props": {"name": "李四", "birthDate": "1985-07-01"}, "advisorId": "A2"},
            {"id": "C3", "props": {"name": "王五", "consentMarketing": False}},
        ],
    )
    await link_related(
        store,
        [
            {"fromId": "C1", "toId": "C2", "kind": "SPOUSE"},
            {"fromId": "C1", "toId": "C3", "kind": "GUARANTOR"},
        ],
    )
    await upsert_households(
        store,
        [
            {"id": "H1", "props": {"name": "张家"}, "customerId": "C1", "role": "HEAD"},
            {"id": "H1", "props": {}, "customerId": "C2"},
        ],
    )
    await upsert_accounts(
        store,
        [
            {
                "id": "AC1",
                "props": {
                    "type": "SAVINGS",
                    "balance": 120000.5,
                    "currency": "CNY",
                    "openedAt": "2020-05-01",
                },
                "customerId": "C1",
            },
            {
                "id": "AC2",
                "props": {
                    "type": "LOAN",
                    "balance": 300000,
                    "currency": "CNY",
                    "openedAt": "2021-06-01",
                },
                "customerId": "C2",
            },
            {
                "id": "AC3",
                "props": {
                    "type": "CHECKING",
                    "balance": 0,
                    "currency": "CNY",
                    "openedAt": "2022-01-01",
                },
                "customerId": "C3",
            },
        ],
    )
    await upsert_holdings(store, [{"customerId": "C2", "accountId": "AC1", "role": "JOINT"}])
    await upsert_transactions(
        store,
        [
            {
                "id": f"T{i}",
                "accountId": "AC1" if i < 3 else "AC2",
                "props": {
                    "amount": -10.5 * i,
                    "currency": "CNY",
                    "time": f"2025-03-0{i}T08:00:00Z",
                    "channel": "APP",
                },
            }
            for i in range(1, 5)
        ],
    )
    await upsert_interactions(
        store,
        [
            {
                "id": "I1",
                "customerId": "C1",
                "productCode": "P-CARD",
                "props": {
                    "channel": "CALL",
                    "kind": "COMPLAINT",
                    "time": "2025-03-02T09:00:00Z",
                    "summary": "年费问题",
                    "satisfaction": 2,
                    "resolved": False,
                },
            },
            {
                "id": "I2",
                "customerId": "C2",
                "props": {"channel": "CHAT", "kind": "INQUIRY", "time": "2025-03-03T10:00:00Z"},
            },
        ],
    )
    # One post per call: batched CALL {} writes link only the first row on FalkorDB
    # (see test_upsert_posts_links_every_row_of_a_batch).
    for post in [
        {
            "platform": "x",
            "postId": str(n),
            "ingestedAt": "2025-03-05T00:00:00Z",
            "props": {
                "text": text,
                "createdAt": f"2025-03-0{n}T12:00:00Z",
                "brands": brands,
                "likes": n,
            },
            "author": {"handle": handle, "props": {"name": handle, "followers": 10 * n}},
            "brands": brands,
            "products": products,
        }
        for n, text, handle, brands, products in (
            (1, "招商银行的服务很好", "zhang_san", ["招商银行"], ["P-CARD"]),
            (2, "排队太久了", "zhang_san", ["招商银行"], []),
            (3, "工商银行和招商银行", "someone", ["工商银行", "招商银行"], []),
        )
    ]:
        await upsert_posts(store, [post])
    await link_social_accounts(
        store, [{"customerId": "C1", "platform": "x", "handle": "zhang_san"}]
    )
