"""Brand monitoring over GraphQL: posts ingested through the real pipeline (default scoring,
terms, dedupe) into the embedded FalkorDB, read back through the ASGI app."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from graph.repositories.customers import upsert_customers
from graph.repositories.social import link_social_accounts, upsert_posts
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import Scorer
from tests.api.conftest import Api

TERMS = Path(__file__).parents[2] / "examples" / "social" / "terms.toml"
BRAND = "招商银行"

POSITIVE = [
    "招行的理财经理很专业，服务周到，非常满意",
    "招行网点环境不错，办事效率高，满意",
    "招行的掌上生活很好用，推荐",
    "招行的理财收益不错，很开心",
    "招行柜员非常耐心，服务很好",
]
NEGATIVE = [
    "招行手机银行又闪退了，转账失败，太差劲了，投诉！",
    "招行排队两个小时，太慢了，非常失望",
    "招行信用卡乱收年费，垃圾，投诉",
    "招行客服电话永远打不通，太差了",
    "招行的APP一直崩溃，烦死了，差评",
    "招行转账被扣了手续费，坑人，很生气",
    "招行柜台服务态度恶劣，太差劲了",
    "招行理财亏了好多钱，后悔死了，骗子",
    "招行网银登录不了，耽误事情，差评",
]


def post(pid: str, text: str, day: int, author: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "text": text,
        "author": author,
        "created_at": f"2025-03-{day:02d}T08:{len(pid):02d}:00Z",
        **extra,
    }


# Negative posts per day: 03-01: 2 (one a repost), 03-03/05/07: 1, 03-08: 5 (the spike).
POSTS = [
    post("p1", POSITIVE[0], 1, "wxm_2025", author_name="王小明", likes=3),
    post("n1", NEGATIVE[0], 1, "angry_li", likes=40),
    post("n1", NEGATIVE[0], 1, "angry_li", likes=41),  # the same post again, fresher metrics
    post("r1", f"转发微博 //@angry_li: {NEGATIVE[0]}", 1, "passer_by", repost_of="n1"),
    post("p2", POSITIVE[1], 2, "fan_2"),
    post("en", "Great service at the CMB branch today", 2, "expat_joe"),
    post("p3", POSITIVE[2], 3, "fan_3"),
    post("n2", NEGATIVE[1], 3, "user_3"),
    post("p4", POSITIVE[3], 4, "fan_4"),
    post("p5", POSITIVE[4], 5, "fan_5"),
    post("n3", NEGATIVE[2], 5, "user_5"),
    post("n4", NEGATIVE[3], 7, "user_7"),
    *(post(f"s{i}", NEGATIVE[4 + i], 8, f"spiker_{i}", likes=10 * i) for i in range(5)),
]
STORED = 16  # n1 once; the malformed lines not at all


async def ingest(store: GraphStore, tmp_path: Path) -> None:
    lines = [orjson.dumps(p).decode() for p in POSTS]
    lines.insert(3, '{"id": "bad", "text": "没有闭合')  # not JSON
    lines.append(orjson.dumps({"id": "nt", "created_at": "2025-03-02T00:00:00Z"}).decode())
    path = tmp_path / "weibo.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with BatchScorer(max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, TermMatcher.load(TERMS))
        result = await ingest_file(
            pipeline, path, Checkpoint(tmp_path / "cp.json"), platform="weibo"
        )
    assert result.rejected == 2 and result.totals.stored == STORED


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert "Traceback" not in body["errors"][0]["message"]
    return extensions


MENTIONS = """query($f: MentionFilter, $first: Int, $after: String) {
  mentions(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      platform postId text lang createdAt url brands products keywords isRepost duplicateOf
      sentiment { score label model emotion probabilities { positive neutral negative } }
      metrics { likes reposts replies views }
      author { platform handle displayName followers customerLinked }
    } }
  }
}"""


async def mentions(api: Api, f: dict[str, Any], first: int = 50) -> dict[str, Any]:
    return ok(await api.gql(MENTIONS, {"f": f, "first": first}))["mentions"]


async def test_mentions_labels_reposts_and_paging(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    await ingest(store, tmp_path)
    found = await mentions(officer, {"brand": BRAND})
    assert found["totalCount"] == STORED
    nodes = {e["node"]["postId"]: e["node"] for e in found["edges"]}
    assert len(nodes) == STORED
    labels = [n["sentiment"]["label"] for n in nodes.values()]
    assert labels.count("POSITIVE") == 5 and labels.count("UNSUPPORTED") == 1
    model = Scorer().version
    assert nodes["en"]["sentiment"] == {
        "score": None,
        "label": "UNSUPPORTED",
        "model": model,
        "emotion": None,
        "probabilities": None,
    }
    n1 = nodes["n1"]
    assert n1["sentiment"]["label"] == "NEGATIVE" and n1["metrics"]["likes"] == 41
    assert n1["sentiment"]["model"] == model and n1["sentiment"]["emotion"] == "angry"
    probs = n1["sentiment"]["probabilities"]
    assert probs["negative"] > max(probs["positive"], probs["neutral"])
    assert probs["positive"] + probs["neutral"] + probs["negative"] == pytest.approx(1, abs=2e-3)
    assert n1["keywords"] == ["闪退", "投诉"] and n1["products"] == ["MOBILE-APP"]
    assert n1["author"] == {
        "platform": "weibo",
        "handle": "angry_li",
        "displayName": None,
        "followers": None,
        "customerLinked": False,
    }
    assert nodes["r1"]["isRepost"] and nodes["r1"]["duplicateOf"] == "weibo:n1"
    # Every row of the one ingest batch got its author (the FOREACH upsert).
    assert all(n["author"] and n["author"]["handle"] for n in nodes.values())

    negative = await mentions(officer, {"brand": BRAND, "label": "NEGATIVE"})
    assert negative["totalCount"] == 10
    without = await mentions(officer, {"brand": BRAND, "includeReposts": False})
    assert without["totalCount"] == STORED - 1
    assert "r1" not in {e["node"]["postId"] for e in without["edges"]}
    window = await mentions(
        officer, {"term": "差评", "from": "2025-03-08T00:00:00Z", "to": "2025-03-09T00:00:00Z"}
    )
    assert {e["node"]["postId"] for e in window["edges"]} == {"s0", "s4"}

    # Pages walk the same order without gaps or repeats.
    first = await mentions(officer, {"brand": BRAND}, first=10)
    assert first["pageInfo"]["hasNextPage"] and len(first["edges"]) == 10
    rest = ok(
        await officer.gql(
            MENTIONS, {"f": {"brand": BRAND}, "first": 10, "after": first["pageInfo"]["endCursor"]}
        )
    )["mentions"]
    assert not rest["pageInfo"]["hasNextPage"]
    paged = [e["node"]["postId"] for e in first["edges"] + rest["edges"]]
    assert paged == [e["node"]["postId"] for e in found["edges"]]


# UTC days here (the default zone, Asia/Shanghai, is tested in test_brand_alerts.py).
TREND = """query($term: String, $brand: String, $from: DateTime!, $to: DateTime!,
                 $interval: Interval!, $tz: String = "UTC") {
  sentimentTrend(term: $term, brand: $brand, from: $from, to: $to, interval: $interval,
                 timezone: $tz) {
    start count positive neutral negative unsupported avgScore
    emotions { happy angry sad fear surprise neutral }
  }
}"""
MARCH = {"from": "2025-03-01T00:00:00Z", "to": "2025-03-09T00:00:00Z"}


async def test_trend_buckets_sum_to_the_count(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    await ingest(store, tmp_path)
    days = ok(await officer.gql(TREND, {"brand": BRAND, "interval": "DAY"} | MARCH))
    days = days["sentimentTrend"]
    assert [d["start"] for d in days] == [f"2025-03-0{d}T00:00:00Z" for d in range(1, 9)]
    assert sum(d["count"] for d in days) == STORED
    assert days[5] == {  # 03-06: no posts, still a bucket
        "start": "2025-03-06T00:00:00Z",
        "count": 0,
        "positive": 0,
        "neutral": 0,
        "negative": 0,
        "unsupported": 0,
        "avgScore": None,
        "emotions": {"happy": 0, "angry": 0, "sad": 0, "fear": 0, "surprise": 0, "neutral": 0},
    }
    assert [d["negative"] for d in days] == [2, 0, 1, 0, 1, 0, 1, 5]
    assert [d["unsupported"] for d in days] == [0, 1, 0, 0, 0, 0, 0, 0]  # the English post
    for d in days:  # every scored post has one emotion
        assert sum(d["emotions"].values()) == d["count"] - d["unsupported"]
    assert days[0]["emotions"]["happy"] == days[0]["positive"] == 1
    assert days[1]["count"] == 2 and days[1]["avgScore"] > 0.6  # the English post is unscored

    weeks = ok(await officer.gql(TREND, {"term": "招行", "interval": "WEEK"} | MARCH))
    weeks = weeks["sentimentTrend"]
    # 2025-03-01 is a Saturday: its ISO week starts on 02-24.
    assert [w["start"][:10] for w in weeks] == ["2025-02-24", "2025-03-03"]
    assert sum(w["count"] for w in weeks) == STORED - 1  # "招行" is not in the English post

    both = error(await officer.gql(TREND, {"term": "x", "brand": BRAND, "interval": "DAY"} | MARCH))
    assert both == {"code": "BAD_USER_INPUT", "field": "brand"}
    neither = error(await officer.gql(TREND, {"interval": "DAY"} | MARCH))
    assert neither == {"code": "BAD_USER_INPUT", "field": "term"}
    backwards = MARCH | {"to": MARCH["from"]}
    assert error(await officer.gql(TREND, {"brand": BRAND, "interval": "DAY"} | backwards)) == {
        "code": "BAD_USER_INPUT",
        "field": "to",
    }
    years = MARCH | {"to": "2035-03-01T00:00:00Z"}
    too_many = error(await officer.gql(TREND, {"brand": BRAND, "interval": "HOUR"} | years))
    assert too_many == {"code": "BAD_USER_INPUT", "field": "interval"}


ALERTS = """query($brand: String!, $from: DateTime!, $to: DateTime!) {
  sentimentAlerts(brand: $brand, from: $from, to: $to, topPosts: 2) {
    start count negative zScore baselineMean
    topPosts { postId sentiment { label } metrics { likes } author { handle } }
  }
}"""


async def test_negative_spike_is_alerted(store: GraphStore, officer: Api, tmp_path: Path) -> None:
    await ingest(store, tmp_path)
    window = {"brand": BRAND, "from": "2025-03-04T00:00:00Z", "to": "2025-03-09T00:00:00Z"}
    alerts = ok(await officer.gql(ALERTS, window))["sentimentAlerts"]
    assert [a["start"] for a in alerts] == ["2025-03-08T00:00:00Z"]
    spike = alerts[0]
    assert spike["negative"] == 5 and spike["count"] == 5
    # Trailing 7 days 03-01..03-07 hold 2,0,1,0,1,0,1 negatives.
    assert spike["baselineMean"] == pytest.approx(5 / 7)
    assert spike["zScore"] == pytest.approx(6.12, abs=0.01)
    assert [p["postId"] for p in spike["topPosts"]] == ["s4", "s3"]
    assert all(p["sentiment"]["label"] == "NEGATIVE" for p in spike["topPosts"])
    assert spike["topPosts"][0]["author"]["handle"] == "spiker_4"

    quiet = window | {"to": "2025-03-08T00:00:00Z"}
    assert ok(await officer.gql(ALERTS, quiet))["sentimentAlerts"] == []
    other = window | {"brand": "工商银行"}
    assert ok(await officer.gql(ALERTS, other))["sentimentAlerts"] == []


TOP_AUTHORS = """query($first: Int) {
  topAuthors(brand: "招商银行", first: $first) {
    posts engagement reach influence account { handle customerLinked }
  }
}"""


async def test_top_authors_by_engagement(store: GraphStore, officer: Api, tmp_path: Path) -> None:
    await ingest(store, tmp_path)
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": "celebrity",
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": "招商银行", "createdAt": "2025-03-02T00:00:00Z",
                          "brands": ["招商银行"], "likes": 1},
                "author": {"handle": "big_v", "props": {"followers": 5_000_000}},
                "brands": ["招商银行"],
                "products": [],
            }
        ],
    )  # fmt: skip
    top = ok(await officer.gql(TOP_AUTHORS, {"first": 10}))["topAuthors"]
    ranked = [(a["account"]["handle"], a["engagement"], a["reach"]) for a in top]
    assert ranked[:2] == [("angry_li", 41, 0), ("spiker_4", 40, 0)]
    # Five million followers and one like: reach apart, not a top author.
    (big,) = [a for a in top if a["account"]["handle"] == "big_v"]
    assert ranked.index(("big_v", 1, 5_000_000)) > 1
    assert top[0]["influence"] == pytest.approx(math.log10(42), abs=1e-3)
    expected = math.log10(2) + 0.5 * math.log10(5_000_001)
    assert big["influence"] == pytest.approx(expected, abs=1e-3)
    assert big["influence"] > top[1]["influence"]  # influence weighs the audience too
    too_many = error(await officer.gql(TOP_AUTHORS, {"first": 10_000}))
    assert too_many["code"] == "BAD_USER_INPUT" and too_many["field"] == "first"


async def test_top_authors_ties_do_not_sort_by_handle(store: GraphStore, officer: Api) -> None:
    # QA finding: ties went by the plaintext handle, so a brand analyst (who sees tokens) could
    # place a hidden handle among handles of accounts they post from.
    for handle in ("zz_first", "aa_second", "mm_third"):  # one call each: seen in this order
        await upsert_posts(
            store,
            [
                {
                    "platform": "weibo",
                    "postId": f"tie-{handle}",
                    "ingestedAt": "2025-03-05T00:00:00Z",
                    "props": {"text": "招商银行", "createdAt": "2025-03-02T00:00:00Z",
                              "brands": ["招商银行"]},
                    "author": {"handle": handle, "props": {}},
                    "brands": ["招商银行"],
                    "products": [],
                }
            ],
        )  # fmt: skip
    top = ok(await officer.gql(TOP_AUTHORS, {"first": 10}))["topAuthors"]
    tied = [a["account"]["handle"] for a in top if a["engagement"] == 0 and a["posts"] == 1]
    assert tied == ["zz_first", "aa_second", "mm_third"]


CUSTOMER = """query($id: ID!) { customer(id: $id) {
  id
  mentions(first: 5) { totalCount edges { node {
    postId sentiment { label } author { handle customerLinked } } } }
  sentimentSummary { count positive neutral negative avgScore lastPostAt }
} }"""
CANDIDATES = """query($id: ID!) {
  linkCandidates(customerId: $id) { platform handle displayName score }
}"""
LINK = """mutation($id: ID!, $platform: String!, $handle: String!) {
  linkSocialAccount(customerId: $id, platform: $platform, handle: $handle) {
    platform handle displayName customerLinked
  }
}"""


async def customer_count(store: GraphStore) -> int:
    return int((await store.read("MATCH (c:Customer) RETURN count(c) AS n"))[0]["n"])


async def test_link_then_the_360_view_shows_the_posts(
    store: GraphStore, officer: Api, agent: Api, tmp_path: Path
) -> None:
    await upsert_customers(
        store,
        [
            {"id": "C1", "props": {"name": "王小明"}},
            {"id": "C2", "props": {"name": "李雷"}},
        ],
    )
    await ingest(store, tmp_path)
    before = ok(await officer.gql(CUSTOMER, {"id": "C1"}))["customer"]
    assert before["mentions"] == {"totalCount": 0, "edges": []}
    assert before["sentimentSummary"]["count"] == 0

    suggested = ok(await officer.gql(CANDIDATES, {"id": "C1"}))["linkCandidates"]
    assert suggested[0] == {
        "platform": "weibo",
        "handle": "wxm_2025",
        "displayName": "王小明",
        "score": 100.0,
    }
    assert "angry_li" not in {c["handle"] for c in suggested}
    assert ok(await officer.gql(CUSTOMER, {"id": "C1"}))["customer"]["mentions"]["totalCount"] == 0

    # The privacy officer only reads; a service agent links. The answer is masked by the
    # customer's decision, as the account shows in that customer's 360 view: the agent's
    # partial handle mode, and the link it made (before session 23: all null).
    assert (await officer.gql(LINK, {"id": "C1", "platform": "Weibo", "handle": "@wxm_2025"}))[
        "errors"
    ][0]["extensions"]["code"] == "FORBIDDEN"
    linked = ok(await agent.gql(LINK, {"id": "C1", "platform": "Weibo", "handle": "@wxm_2025"}))
    assert linked["linkSocialAccount"] == {
        "platform": "weibo",
        "handle": "w******5",
        "displayName": "王*明",
        "customerLinked": True,
    }
    view = ok(await officer.gql(CUSTOMER, {"id": "C1"}))["customer"]
    assert view["mentions"]["totalCount"] == 1
    node = view["mentions"]["edges"][0]["node"]
    assert node == {
        "postId": "p1",
        "sentiment": {"label": "POSITIVE"},
        "author": {"handle": "wxm_2025", "customerLinked": True},
    }
    summary = view["sentimentSummary"]
    assert (summary["count"], summary["positive"], summary["negative"]) == (1, 1, 0)
    assert summary["avgScore"] > 0.6 and summary["lastPostAt"] == "2025-03-01T08:02:00Z"

    # The unlinked author's posts stay out of every customer, and nobody new is created.
    other = ok(await officer.gql(CUSTOMER, {"id": "C2"}))["customer"]
    assert other["mentions"]["totalCount"] == 0
    assert await customer_count(store) == 2
    found = await mentions(officer, {"term": "闪退"})
    assert found["edges"][0]["node"]["author"]["customerLinked"] is False

    missing = error(await agent.gql(LINK, {"id": "nobody", "platform": "weibo", "handle": "h"}))
    assert missing == {"code": "NOT_FOUND", "field": "customerId"}
    assert await customer_count(store) == 2
    bad = error(await agent.gql(LINK, {"id": "C1", "platform": "myspace", "handle": "h"}))
    assert bad["code"] == "BAD_USER_INPUT" and bad["field"] == "platform"
    unknown = error(await officer.gql(CANDIDATES, {"id": "nobody"}))
    assert unknown == {"code": "NOT_FOUND", "field": "customerId"}


PAGE = """{ customers(first: 10) { edges { node {
  id
  mentions(first: 3) { totalCount edges { node { postId author { handle } } } }
  sentimentSummary { count avgScore }
} } } }"""


async def seed_linked(store: GraphStore, n: int, posts_each: int) -> None:
    """``n`` customers, each with a linked handle that wrote ``posts_each`` posts."""
    await upsert_customers(
        store, [{"id": f"K{i:02d}", "props": {"name": f"客户{i}"}} for i in range(n)]
    )
    rows = [
        {
            "platform": "weibo",
            "postId": f"k{i}-{j}",
            "ingestedAt": "2025-03-10T00:00:00Z",
            "props": {
                "text": f"招行 {i} {j}",
                "createdAt": f"2025-03-0{1 + j % 9}T00:00:00Z",
                "authorHandle": f"h{i}",
                "sentimentLabel": "POSITIVE",
                "sentimentScore": 0.9,
            },
            "author": {"handle": f"h{i}", "props": {"followers": i}},
            "brands": [BRAND],
            "products": [],
        }
        for i in range(n)
        for j in range(posts_each)
    ]
    await upsert_posts(store, rows)
    await link_social_accounts(
        store,
        [{"customerId": f"K{i:02d}", "platform": "weibo", "handle": f"h{i}"} for i in range(n)],
    )


async def cost(store: GraphStore, api: Api, query: str) -> tuple[int, dict[str, Any]]:
    before = store.stats.round_trips
    data = ok(await api.gql(query))
    return store.stats.round_trips - before, data


async def test_customer_page_with_mentions_costs_constant_round_trips(
    store: GraphStore, officer: Api
) -> None:
    await seed_linked(store, 2, 1)
    small, _ = await cost(store, officer, PAGE)
    await store.clear()
    await seed_linked(store, 10, 4)
    large, data = await cost(store, officer, PAGE)
    edges = data["customers"]["edges"]
    assert len(edges) == 10
    assert all(e["node"]["mentions"]["totalCount"] == 4 for e in edges)
    assert all(len(e["node"]["mentions"]["edges"]) == 3 for e in edges)
    assert edges[3]["node"]["mentions"]["edges"][0]["node"]["author"]["handle"] == "h3"
    assert small == large
    assert large <= 6


async def test_bad_arguments_are_named(store: GraphStore, officer: Api) -> None:
    assert error(await officer.gql(MENTIONS, {"first": 101})) == {
        "code": "BAD_USER_INPUT",
        "field": "first",
        "max": 100,
    }
    bad_cursor = error(await officer.gql(MENTIONS, {"after": "nope"}))
    assert bad_cursor == {"code": "BAD_USER_INPUT", "field": "after"}
    platform = error(await officer.gql(MENTIONS, {"f": {"platform": "myspace"}}))
    assert platform == {"code": "BAD_USER_INPUT", "field": "filter.platform"}
    empty = error(await officer.gql(MENTIONS, {"f": {"brand": "  "}}))
    assert empty == {"code": "BAD_USER_INPUT", "field": "filter.brand"}
    top = error(
        await officer.gql(
            """{ sentimentAlerts(brand: "招商银行", from: "2025-03-01T00:00:00Z",
                 to: "2025-03-02T00:00:00Z", topPosts: 500) { start } }"""
        )
    )
    assert top["code"] == "BAD_USER_INPUT" and top["field"] == "topPosts"


async def test_brand_analyst_sees_social_data_with_handles_hashed_and_no_customers(
    store: GraphStore, as_role: Callable[..., Api], marketing: Api, tmp_path: Path
) -> None:
    await upsert_customers(store, [{"id": "C1", "props": {"name": "王小明"}}])
    await ingest(store, tmp_path)
    brand = as_role("brand_analyst", None, "b1")
    found = await mentions(brand, {"brand": BRAND})
    assert found["totalCount"] == STORED
    authors = [e["node"]["author"] for e in found["edges"] if e["node"]["author"]]
    assert authors and all(a["handle"].startswith("h:") for a in authors)
    assert all(a["displayName"] is None or a["displayName"].startswith("h:") for a in authors)
    again = await mentions(brand, {"brand": BRAND})
    assert again == found  # hashes are stable: a brand team can count distinct authors
    assert "wxm_2025" not in str(found) and "angry_li" not in str(found)
    assert ok(await brand.gql(TREND, {"brand": BRAND, "interval": "DAY"} | MARCH))

    # No customer profile at all, not even a count.
    assert error(await brand.gql(CUSTOMER, {"id": "C1"}))["code"] == "FORBIDDEN"
    listed = await brand.gql("{ customers { totalCount edges { node { id } } } }")
    assert listed["data"] is None and error(listed)["code"] == "FORBIDDEN"
    assert error(await brand.gql(CANDIDATES, {"id": "C1"}))["code"] == "FORBIDDEN"

    # Social listening is not for roles without a social grant.
    body = await marketing.gql(MENTIONS, {"f": {"brand": BRAND}, "first": 5})
    assert body["data"] is None and error(body)["code"] == "FORBIDDEN"


async def test_the_roles_that_link_handles_see_the_candidates_they_would_link(
    store: GraphStore, as_role: Callable[..., Api], tmp_path: Path
) -> None:
    # QA probe: linkCandidates were decided as SocialAccounts, which the policy gives advisors,
    # service agents and marketing analysts nothing for: they got [{handle: null} x3] and
    # could not link a suggestion. Candidates are now decided as LinkCandidate resources with
    # the customer's attributes: the roles that may link to this customer see the handles.
    await upsert_customers(
        store,
        [
            {"id": "C1", "props": {"name": "王小明", "consentMarketing": True}, "advisorId": "A1"},
            {"id": "C2", "props": {"name": "李雷", "consentMarketing": True}, "advisorId": "A2"},
        ],
    )
    await ingest(store, tmp_path)
    wanted = {"platform": "weibo", "handle": "wxm_2025", "displayName": "王小明", "score": 100.0}
    advisor = as_role("advisor", "service", "A1")
    agent = as_role("service_agent", "service", "sa1")
    marketing = as_role("marketing_analyst", "marketing", "mk1")
    for api in (advisor, agent):
        assert ok(await api.gql(CANDIDATES, {"id": "C1"}))["linkCandidates"][0] == wanted
    # Another advisor's customer: the advisor may neither link nor see its candidates.
    assert error(await advisor.gql(CANDIDATES, {"id": "C2"}))["code"] == "FORBIDDEN"
    # A marketing analyst may read the customer but not link: the handles stay masked.
    seen = ok(await marketing.gql(CANDIDATES, {"id": "C1"}))["linkCandidates"]
    assert seen and all(c["handle"] is None and c["displayName"] is None for c in seen)
    refused = await marketing.gql(LINK, {"id": "C1", "platform": "weibo", "handle": "wxm_2025"})
    assert error(refused)["code"] == "FORBIDDEN"
    # The handle the advisor was shown is one it can link.
    linked = ok(await advisor.gql(LINK, {"id": "C1", "platform": "weibo", "handle": "wxm_2025"}))
    assert linked["linkSocialAccount"]["platform"] == "weibo"
    owners = await store.read(
        "MATCH (c:Customer)-[:HAS_SOCIAL]->(a:SocialAccount) RETURN c.id AS c, a.handle AS h"
    )
    assert owners == [{"c": "C1", "h": "wxm_2025"}]
