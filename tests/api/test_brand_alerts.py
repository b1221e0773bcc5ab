"""Brand alerts over GraphQL on a generated 60-day stream with a two-day outage: alerts on the
outage days only (no cold start, no routine weekday peak), each explained; time-zone days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from ingest.social.synthetic import MAIN, generate
from sentiment.batch import BatchScorer
from tests.api.conftest import Api
from tests.social.brand_stream import ingest_lines

ALERTS = """query($brand: String!, $from: DateTime!, $to: DateTime!, $tz: String) {
  brandAlerts(brand: $brand, from: $from, to: $to, timezone: $tz, topPosts: 2, topTerms: 5) {
    timezone threshold minVolume baselineBuckets minBaselineBuckets judgedBuckets
    insufficientHistory
    alerts {
      start kinds count negative expected volumeZ negativeShare baselineNegativeShare
      baselineBuckets
      topTerms { term count share baselineShare lift }
      emotions { emotion count share baselineShare }
      topPosts { postId sentiment { label emotion } }
    }
  }
}"""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_outage_days_alone_are_alerted_and_explained(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    stream = generate(days=60, scale=0.6)
    with BatchScorer(max_workers=1) as scorer:
        await ingest_lines(store, scorer, stream.lines, tmp_path)
    since = stream.start - timedelta(hours=8)  # local (Beijing) midnight of day one
    window = {
        "brand": MAIN,
        "from": since.isoformat(),
        "to": (since + timedelta(days=60)).isoformat(),
    }
    report = ok(await officer.gql(ALERTS, window))["brandAlerts"]
    assert report["timezone"] == "Asia/Shanghai"  # the settings' default
    assert report["minBaselineBuckets"] == 14
    # The first 14 days have no baseline: reported, never alerted (no cold start).
    assert len(report["insufficientHistory"]) == 14
    assert report["insufficientHistory"][0] == "2025-01-05T16:00:00Z"
    assert report["judgedBuckets"] == 46
    alerts = report["alerts"]
    local_days = [(since + timedelta(days=d)).isoformat().replace("+00:00", "Z") for d in (45, 46)]
    assert [a["start"] for a in alerts] == local_days, [
        {
            k: a[k]
            for k in (
                "start",
                "kinds",
                "count",
                "expected",
                "volumeZ",
                "negativeShare",
                "baselineNegativeShare",
            )
        }
        for a in alerts
    ]
    for alert in alerts:
        assert set(alert["kinds"]) == {"VOLUME", "NEGATIVE_SHARE"}
        assert alert["count"] > 3 * alert["expected"]
        assert alert["negativeShare"] > alert["baselineNegativeShare"] + 0.3
        terms = [t["term"] for t in alert["topTerms"]]
        assert "登录不上" in terms or "转账失败" in terms, terms
        assert all(t["share"] > t["baselineShare"] for t in alert["topTerms"])
        assert alert["emotions"][0]["emotion"] == "angry"
        assert [p["sentiment"]["label"] for p in alert["topPosts"]] == ["NEGATIVE"] * 2

    # A window starting at the outage reads its baseline from before `from`.
    late = window | {"from": local_days[0]}
    late_alerts = ok(await officer.gql(ALERTS, late))["brandAlerts"]["alerts"]
    assert [a["start"] for a in late_alerts] == local_days
    # A brand first seen inside the window: its first days are not judged.
    fresh = window | {"brand": "工商银行", "from": local_days[0]}
    await store.clear()
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": f"f{n}",
                "ingestedAt": "2025-03-01T00:00:00Z",
                "props": {
                    "text": "工商银行",
                    "createdAt": "2025-02-20T02:00:00Z",
                    "brands": ["工商银行"],
                },
                "author": None,
                "brands": ["工商银行"],
                "products": [],
            }
            for n in range(50)
        ],
    )
    cold = ok(await officer.gql(ALERTS, fresh))["brandAlerts"]
    # 50 posts on its first day, none after: the 14 days that follow are not judged (the
    # 15-day window's last day is, against a baseline of 14) and nothing is alerted.
    assert cold["alerts"] == []
    assert (len(cold["insufficientHistory"]), cold["judgedBuckets"]) == (14, 1)


async def test_bad_time_zone_is_bad_user_input(officer: Api) -> None:
    body = await officer.gql(
        ALERTS,
        {"brand": MAIN, "from": "2025-03-01T00:00:00Z", "to": "2025-03-02T00:00:00Z",
         "tz": "Mars/Olympus"},
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "timezone"


TREND = """query($tz: String) {
  sentimentTrend(brand: "招商银行", from: "2025-03-01T00:00:00Z", to: "2025-03-03T00:00:00Z",
                 interval: DAY, timezone: $tz) { start count unsupported }
}"""


async def test_days_follow_the_time_zone(store: GraphStore, officer: Api) -> None:
    rows = [
        {
            "platform": "weibo",
            "postId": pid,
            "ingestedAt": "2025-03-05T00:00:00Z",
            "props": {
                "text": "招商银行",
                "createdAt": at,
                "sentimentLabel": label,
                "brands": ["招商银行"],
            },
            "author": None,
            "brands": ["招商银行"],
            "products": [],
        }
        for pid, at, label in (
            ("a", "2025-03-01T10:00:00Z", "NEUTRAL"),  # 18:00 Beijing, 1 March
            ("b", "2025-03-01T17:00:00Z", "UNSUPPORTED"),  # 01:00 Beijing, 2 March
            ("c", "2025-03-02T20:00:00Z", "NEUTRAL"),  # 04:00 Beijing, 3 March
        )
    ]
    await upsert_posts(store, rows)
    utc = ok(await officer.gql(TREND, {"tz": "UTC"}))["sentimentTrend"]
    assert [(b["start"], b["count"]) for b in utc] == [
        ("2025-03-01T00:00:00Z", 2),
        ("2025-03-02T00:00:00Z", 1),
    ]
    beijing = ok(await officer.gql(TREND, {}))["sentimentTrend"]
    assert [(b["start"], b["count"], b["unsupported"]) for b in beijing] == [
        ("2025-02-28T16:00:00Z", 1, 0),
        ("2025-03-01T16:00:00Z", 1, 1),
        ("2025-03-02T16:00:00Z", 1, 0),
    ]
