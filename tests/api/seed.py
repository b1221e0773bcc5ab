"""Small hand-made graphs for API tests, written with the repositories' own upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.repositories.accounts import upsert_accounts, upsert_holdings, upsert_transactions
from graph.repositories.advisors import upsert_advisors, upsert_products
from graph.repositories.customers import link_related, upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore

# Relative to the real clock: the API computes activity figures against its own now.
NOW = datetime.now(UTC).replace(microsecond=0)


def ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile(cid: str, name: str, phone: str) -> dict[str, object]:
    return {
        "name": name,
        "gender": "F",
        "birthDate": "1985-06-15",
        "idNumber": "110105198506150022",
        "phone": phone,
        "email": f"{cid}@example.cn",
        "address": "北京市朝阳区建国路1号",
        "occupation": "engineer",
        "incomeBand": "200k-500k",
        "riskProfile": "稳健",
        "createdAt": ts(2000),
        "consentMarketing": True,
        "consentDataSharing": False,
        "consentUpdatedAt": ts(100),
    }


async def seed_family(
    store: GraphStore,
    prefix: str,
    *,
    accounts: int = 2,
    transactions: int = 3,
    interactions: int = 2,
    balance: float = 50_000.0,
) -> list[str]:
    """Two customers (``{prefix}-1`` and ``{prefix}-2``) in one household, related, with a
    joint account, an advisor at a branch, and per customer ``accounts`` own accounts with
    ``transactions`` transactions each and ``interactions`` interactions."""
    ids = [f"{prefix}-1", f"{prefix}-2"]
    await upsert_advisors(
        store,
        [
            {
                "id": f"{prefix}-adv",
                "props": {"name": "王顾问"},
                "branchId": f"{prefix}-br",
                "branch": {"name": "建国路支行", "city": "北京"},
            }
        ],
    )
    await upsert_customers(
        store,
        [
            {
                "id": ids[0],
                "props": profile(ids[0], "张伟", "+8613812345678"),
                "advisorId": f"{prefix}-adv",
            },
            {
                "id": ids[1],
                "props": profile(ids[1], "李娜", "+8613912345678"),
                "advisorId": f"{prefix}-adv",
            },
        ],
    )
    await upsert_households(
        store,
        [
            {"id": f"{prefix}-hh", "props": {"name": "张家"}, "customerId": ids[0], "role": "HEAD"},
            {"id": f"{prefix}-hh", "props": {}, "customerId": ids[1], "role": "SPOUSE"},
        ],
    )
    await link_related(store, [{"fromId": ids[0], "toId": ids[1], "kind": "SPOUSE"}])
    await upsert_products(
        store, [{"code": "CARD1", "props": {"name": "白金卡", "category": "card"}}]
    )
    account_rows = [
        {
            "id": f"{prefix}-joint",
            "customerId": ids[0],
            "props": {
                "type": "SAVINGS",
                "product": "活期",
                "balance": balance,
                "currency": "CNY",
                "openedAt": ts(1500),
                "status": "ACTIVE",
            },
        }
    ]
    tx_rows = []
    ix_rows = []
    for cid in ids:
        for a in range(accounts):
            aid = f"{cid}-acc{a}"
            account_rows.append(
                {
                    "id": aid,
                    "customerId": cid,
                    "props": {
                        "type": "CREDIT_CARD" if a % 2 else "WEALTH",
                        "product": "p",
                        "balance": balance,
                        "currency": "CNY",
                        "openedAt": ts(1000 + a),
                        "status": "ACTIVE",
                    },
                }
            )
            for t in range(transactions):
                tx_rows.append(
                    {
                        "id": f"{aid}-t{t}",
                        "accountId": aid,
                        "props": {
                            "amount": 100.0 + t,
                            "currency": "CNY",
                            "time": ts(t + a / 10),
                            "channel": "MOBILE",
                            "kind": "PAYMENT",
                            "description": "shop",
                        },
                    }
                )
        for i in range(interactions):
            ix_rows.append(
                {
                    "id": f"{cid}-ix{i}",
                    "customerId": cid,
                    "productCode": "CARD1" if i == 0 else None,
                    "props": {
                        "channel": "PHONE",
                        "kind": "COMPLAINT" if i == 0 else "INQUIRY",
                        "time": ts(i + 1),
                        "summary": "s",
                        "satisfaction": 3,
                        "resolved": True,
                    },
                }
            )
    await upsert_accounts(store, account_rows)
    await upsert_holdings(
        store, [{"customerId": ids[1], "accountId": f"{prefix}-joint", "role": "JOINT"}]
    )
    for start in range(0, len(tx_rows), 500):
        await upsert_transactions(store, tx_rows[start : start + 500])
    await upsert_interactions(store, ix_rows)
    return ids
