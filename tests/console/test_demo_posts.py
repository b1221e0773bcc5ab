"""The demo social stream `serve --demo` ingests: the same posts per day whenever generated,
ingested through the social pipeline once (a restart adds nothing, a later start tops up)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from console.demo_posts import INCIDENT_EVERY, demo_posts
from graph.store import GraphStore
from hub.demo_posts import seed_demo_posts

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_each_day_is_the_same_whenever_it_is_generated() -> None:
    today = {p["id"]: p for p in demo_posts(NOW)}
    later = {p["id"]: p for p in demo_posts(NOW + timedelta(days=2))}
    both = today.keys() & later.keys()
    # Two days left the window and two came in; what both windows hold is identical.
    assert len(both) > 0.85 * len(today) and all(today[k] == later[k] for k in both)
    assert max(str(p["created_at"]) for p in today.values()) <= "2026-11-29T12:00:00Z"
    assert min(str(p["created_at"]) for p in today.values()) >= "2026-10-29T16:00:00Z"


def test_three_banks_a_weekly_rhythm_and_incidents() -> None:
    posts = demo_posts(NOW)
    brands = Counter(
        next(b for b in ("招行", "工行", "建行") if b in str(p["text"])) for p in posts
    )
    assert brands["招行"] > brands["工行"] > brands["建行"] > 60
    per_day = Counter(str(p["id"])[5:13] for p in posts)
    incidents = [
        d for d in per_day if datetime.strptime(d, "%Y%m%d").toordinal() % INCIDENT_EVERY == 0
    ]
    assert len(incidents) >= 2
    quiet = sorted(per_day.values())[len(per_day) // 2]
    assert all(per_day[d] > quiet + 15 for d in incidents)
    assert len({p["author"] for p in posts}) <= 40 and any(
        "转发微博" in str(p["text"]) for p in posts
    )


async def test_ingested_once_through_the_pipeline_and_topped_up_later(store: GraphStore) -> None:
    first = await seed_demo_posts(store, now=NOW)
    assert first == len(demo_posts(NOW))
    assert await seed_demo_posts(store, now=NOW) == 0  # a restart adds nothing
    rows = await store.read(
        "MATCH (p:Post)-[:MENTIONS]->(b:Brand) RETURN b.name AS brand, count(p) AS n"
    )
    by_brand = {r["brand"]: r["n"] for r in rows}
    assert set(by_brand) == {"招商银行", "工商银行", "建设银行"}
    scored = await store.read(
        "MATCH (p:Post) RETURN count(p) AS n, sum(CASE WHEN p.sentimentLabel = 'NEGATIVE' "
        "THEN 1 ELSE 0 END) AS negative"
    )
    assert scored[0]["n"] == first and 0 < scored[0]["negative"] < first
    # Started again a day later: only the new day's posts (and today's rest) come in.
    later = NOW + timedelta(days=1)
    added = await seed_demo_posts(store, now=later)
    new_ids = {p["id"] for p in demo_posts(later)} - {p["id"] for p in demo_posts(NOW)}
    assert added == len(new_ids) > 0
