"""``satisfaction`` through the app: figures from the demo book, social sentiment beside them,
decided by the policy (marketing and brand teams only) and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.repositories.interactions import upsert_interactions
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.demo import seed_demo
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api

REPORT = """
query Report($from: DateTime!, $to: DateTime!) { satisfaction(from: $from, to: $to) {
  months { month responses csat change complaints unresolvedShare }
  complaintsByChannel { key count share }
  complaintsByBranch { key count share }
  products { product complaints complaintShare mentions positiveShare negativeShare
             averageSentiment }
} }
"""


async def test_satisfaction_report(
    store: GraphStore, data_dir: Path, marketing: Api, as_role: Callable[..., Api]
) -> None:
    await seed_demo(store, customers=300, seed=42, progress=False)
    now = datetime.now(UTC)
    # The added posts and complaints fall in one calendar month (the middle of the last one):
    # the figures are monthly cells, each suppressed below MIN_CELL, and days back from today
    # straddled a month boundary in the first days of a month (1 + 5 complaints: 5 counted).
    mid_last_month = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=15
    )
    posts = [
        {"platform": "weibo", "postId": f"p{i}", "ingestedAt": now.isoformat(),
         "props": {"text": "朝朝宝", "createdAt": (mid_last_month - timedelta(hours=i)).strftime(
             "%Y-%m-%dT%H:%M:%SZ"), "sentimentLabel": "POSITIVE" if i % 3 else "NEGATIVE",
             "sentimentScore": 0.8 if i % 3 else 0.2},
         "author": None, "brands": [], "products": ["MMF-ZZB"]}
        for i in range(1, 10)
    ]  # fmt: skip
    await upsert_posts(store, posts)
    await upsert_interactions(store, [
        {"id": f"IZ{i}", "customerId": f"C{i:06d}", "productCode": "MMF-ZZB",
         "props": {"kind": "COMPLAINT", "channel": "APP", "resolved": False, "satisfaction": 1,
                   "time": (mid_last_month - timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "summary": "理财赎回到账慢"}}
        for i in range(1, 7)
    ])  # fmt: skip
    window = {"from": (now - timedelta(days=365)).isoformat(), "to": now.isoformat()}
    body = await marketing.gql(REPORT, window)
    assert not body.get("errors"), body
    report = body["data"]["satisfaction"]
    months = report["months"]
    assert len(months) >= 12 and all(m["csat"] is None or 0 <= m["csat"] <= 1 for m in months)
    assert any(m["change"] is not None for m in months)
    for key in ("complaintsByChannel", "complaintsByBranch", "products"):
        figures = report[key]
        assert figures and all(
            f.get("count", f.get("complaints")) >= 5 or f.get("key", f.get("product")) == "OTHER"
            for f in figures
        )
        total = sum(f.get("share", f.get("complaintShare")) for f in figures)
        assert abs(total - 1) < 0.01  # fmt: skip
    # 朝朝宝 has complaints in this window: its social figures sit beside them.
    (zzb,) = [p for p in report["products"] if p["product"] == "MMF-ZZB"]
    assert zzb["complaints"] >= 6
    assert zzb["mentions"] == 9 and zzb["negativeShare"] == round(3 / 9, 4)
    assert zzb["averageSentiment"] == round((6 * 0.8 + 3 * 0.2) / 9, 4)

    # A window that ends before this month: nothing later slips in (FalkorDB's string range
    # index let later rows through `time < $end`; the repository filters again).
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earlier = {
        "from": (month_start - timedelta(days=120)).isoformat(),
        "to": month_start.isoformat(),
    }
    past = (await marketing.gql(REPORT, earlier))["data"]["satisfaction"]
    assert past["months"] and all(m["month"] < f"{month_start:%Y-%m}" for m in past["months"])

    advisor = as_role("advisor", "service", "ADV0001")
    denied = await advisor.gql(REPORT, window)
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    assert [r["outcome"] for r in records if r["operation"] == "Report"] == ["ok", "ok", "denied"]
