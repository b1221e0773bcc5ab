"""The brand query language over GraphQL: mentions and trends, errors with the column."""

from __future__ import annotations

from typing import Any

from graph.repositories.alert_rules import put_rule
from graph.repositories.social import (
    backfill_search_text,
    search_mentions,
    texts_in_ranges,
    upsert_posts,
)
from graph.store import GraphStore
from ingest.social.query_language import parse
from resolvers.social import query_filters
from tests.api.conftest import Api

TEXTS = {
    "a": ("招行APP又闪退了", "NEGATIVE", "2025-03-01T02:00:00Z"),
    "b": ("招商银行手机银行转账很快", "POSITIVE", "2025-03-01T03:00:00Z"),
    "c": ("招行APP开发岗位招聘", "NEUTRAL", "2025-03-01T04:00:00Z"),
    "d": ("工行APP又闪退了", "NEGATIVE", "2025-03-02T02:00:00Z"),
    "e": ("招行的客服太差了我要去投诉", "NEGATIVE", "2025-03-02T03:00:00Z"),
    "f": ("招行太差要投诉", "NEGATIVE", "2025-03-02T04:00:00Z"),
}
MENTIONS = """query($q: String!) {
  mentions(filter: {query: $q}, first: 10) { totalCount edges { node { postId } } }
}"""
TREND = """query($q: String!) {
  sentimentTrend(query: $q, from: "2025-03-01T00:00:00Z", to: "2025-03-03T00:00:00Z",
                 interval: DAY, timezone: "UTC") { start count negative }
}"""


async def seed(store: GraphStore) -> None:
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": pid,
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": text, "createdAt": at, "sentimentLabel": label},
                "author": None,
                "brands": [],
                "products": [],
            }
            for pid, (text, label, at) in TEXTS.items()
        ],
    )


async def ids(api: Api, query: str) -> list[str]:
    body = await api.gql(MENTIONS, {"q": query})
    assert "errors" not in body, body
    found = body["data"]["mentions"]
    assert found["totalCount"] == len(found["edges"])
    return sorted(e["node"]["postId"] for e in found["edges"])


async def test_boolean_queries_select_mentions_and_trends(store: GraphStore, officer: Api) -> None:
    await seed(store)
    assert await ids(officer, "(招行 OR 招商银行) AND (APP OR 手机银行) AND NOT 招聘") == ["a", "b"]
    assert await ids(officer, "招行 label:NEGATIVE") == ["a", "e", "f"]
    assert await ids(officer, '"又闪退" -招行') == ["d"]
    assert await ids(officer, "招行 NEAR/3 投诉") == ["f"]  # the graph narrows, Python decides
    day1, day2 = "2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"
    for query, expected in (
        ("(招行 OR 工行) AND 闪退", [(day1, 1, 1), (day2, 1, 1)]),
        ("招行 NEAR/3 投诉", [(day1, 0, 0), (day2, 1, 1)]),
    ):
        body = await officer.gql(TREND, {"q": query})
        assert "errors" not in body, body
        trend = [(b["start"], b["count"], b["negative"]) for b in body["data"]["sentimentTrend"]]
        assert trend == expected


async def test_the_graph_and_python_agree_on_negations_and_groups(
    store: GraphStore, officer: Api
) -> None:
    # The compiler writes NOT and groups with as few parentheses as Cypher's precedence
    # allows (FalkorDB parses nested parentheses in exponential time): the graph must still
    # select what Query.matches decides, NOT of a term, of a field and of a group included.
    await seed(store)
    for query in (
        "NOT 招行",
        "NOT NOT 招行",
        "NOT " * 9 + "招行",  # 7.7 s on the graph server before NOT NOT folded
        "-label:NEGATIVE",
        "NOT label:NEGATIVE AND 招行",
        "NOT (招行 OR 工行)",
        "NOT (招行 AND NOT (APP AND NOT 招聘))",
        "(招行 OR (工行 AND 闪退)) AND NOT (投诉 OR 招聘)",
        "招行 AND (APP OR (手机银行 AND NOT label:NEGATIVE))",
    ):
        posts = [{"text": text, "sentimentLabel": label} for text, label, _ in TEXTS.values()]
        expected = sorted(
            pid for pid, post in zip(TEXTS, posts, strict=True) if parse(query).matches(post)
        )
        assert await ids(officer, query) == expected, query


# Posts with and without each optional field a query may name: no label (not scored yet), no
# emotion, no language, no author.
SPARSE = {
    "s1": ("招行太差要投诉", {"sentimentLabel": "NEGATIVE", "sentimentEmotion": "angry",
                              "lang": "zh", "authorHandle": "user12"}),
    "s2": ("招行太差要投诉", {}),
    "s3": ("招行APP很好用", {"sentimentLabel": "POSITIVE", "lang": "zh"}),
    "s4": ("招行APP闪退", {"sentimentEmotion": "sad", "authorHandle": "angry_li"}),
}  # fmt: skip


async def test_not_of_a_field_keeps_posts_without_it_in_the_graph_as_in_python(
    store: GraphStore, officer: Api
) -> None:
    # Session-16 finding: the graph compiled label:X as p.sentimentLabel = $q, null for a post
    # with no label, so NOT label:X (NOT null: null) left it out while Query.matches (the NEAR
    # path, live subscriptions) kept it. Each field's NOT, alone, in a group and beside NEAR.
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": pid,
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": text, "createdAt": "2025-03-01T02:00:00Z", **props},
                "author": None,
                "brands": [],
                "products": [],
            }
            for pid, (text, props) in SPARSE.items()
        ],
    )
    for query in (
        "NOT label:NEGATIVE",
        "-label:POSITIVE 招行",
        "NOT (label:NEGATIVE AND 招行)",
        "NOT (label:NEGATIVE OR label:POSITIVE)",
        "NOT emotion:angry",
        "NOT lang:zh",
        "NOT author:user12",
        "NOT (emotion:angry OR lang:zh OR author:angry_li)",
        "招行 NEAR/3 投诉 -label:NEGATIVE",  # the graph narrows, Python decides
        "招行 NEAR/3 投诉 NOT (label:POSITIVE OR emotion:sad)",
    ):
        expected = sorted(
            pid for pid, (text, props) in SPARSE.items()
            if parse(query).matches({"text": text, "platform": "weibo", **props})
        )  # fmt: skip
        assert "s2" in expected, query  # the post without any of them is kept
        assert await ids(officer, query) == expected, query


async def test_a_query_nesting_too_deep_is_bad_input(officer: Api) -> None:
    deep = "招行"
    for i in range(12):
        deep = f"(t{i} {'AND' if i % 2 else 'OR'} {deep})"
    body: dict[str, Any] = await officer.gql(MENTIONS, {"q": deep})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "levels deep" in error["message"]


async def test_a_query_that_cannot_be_read_is_bad_input_with_its_column(officer: Api) -> None:
    body: dict[str, Any] = await officer.gql(MENTIONS, {"q": "(招行 OR 工行"})
    error = body["errors"][0]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT", "field": "filter.query", "column": 10,
    }  # fmt: skip
    assert "column 10" in error["message"] and "Traceback" not in error["message"]
    trend = await officer.gql(TREND, {"q": "label:GOOD"})
    assert trend["errors"][0]["extensions"]["field"] == "query"


SOV = """query($brands: [String!]!, $q: String) {
  shareOfVoice(brands: $brands, query: $q, from: "2025-03-01T00:00:00Z",
               to: "2025-03-03T00:00:00Z", interval: DAY, timezone: "UTC") {
    timezone
    brands { brand count share positive negative netSentiment }
    buckets { start total brands { brand count share negativeShare } }
  }
}"""


async def test_share_of_voice_of_three_banks(store: GraphStore, officer: Api) -> None:
    rows = []
    for pid, brands, label, at in (
        ("1", ["招商银行"], "NEGATIVE", "2025-03-01T01:00:00Z"),
        ("2", ["招商银行"], "POSITIVE", "2025-03-01T02:00:00Z"),
        ("3", ["工商银行"], "POSITIVE", "2025-03-01T03:00:00Z"),
        ("4", ["招商银行", "建设银行"], "NEGATIVE", "2025-03-02T01:00:00Z"),
        ("5", ["建设银行"], "UNSUPPORTED", "2025-03-02T02:00:00Z"),
        ("6", ["平安银行"], "NEGATIVE", "2025-03-02T03:00:00Z"),  # not asked for
    ):
        rows.append(
            {
                "platform": "weibo",
                "postId": pid,
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": "".join(brands) + " APP", "createdAt": at,
                          "sentimentLabel": label, "brands": brands},
                "author": None,
                "brands": brands,
                "products": [],
            }
        )  # fmt: skip
    await upsert_posts(store, rows)
    banks = ["招商银行", "工商银行", "建设银行"]
    body = await officer.gql(SOV, {"brands": banks})
    assert "errors" not in body, body
    sov = body["data"]["shareOfVoice"]
    assert sov["timezone"] == "UTC"
    assert [(b["brand"], b["count"], b["share"]) for b in sov["brands"]] == [
        ("招商银行", 3, 0.5),
        ("工商银行", 1, 1 / 6),
        ("建设银行", 2, 2 / 6),
    ]
    assert sov["brands"][0]["netSentiment"] == -1 / 3
    day1, day2 = sov["buckets"]
    assert (day1["start"], day1["total"], day2["total"]) == ("2025-03-01T00:00:00Z", 3, 3)
    assert [(b["count"], b["share"]) for b in day2["brands"]] == [(1, 1 / 3), (0, 0.0), (2, 2 / 3)]
    assert day2["brands"][2]["negativeShare"] == 1.0  # the UNSUPPORTED post is not judged

    negative = await officer.gql(SOV, {"brands": banks, "q": "label:NEGATIVE"})
    counts = [b["count"] for b in negative["data"]["shareOfVoice"]["brands"]]
    assert counts == [2, 0, 1]
    none = await officer.gql(SOV, {"brands": []})
    assert none["errors"][0]["extensions"]["field"] == "brands"


async def test_author_filters_need_handles_revealed(
    store: GraphStore, officer: Api, as_role: Any
) -> None:
    # Security finding: a brand analyst sees handles hashed, yet `author:` matched the plain
    # handle, so the answer (or its count, or an alert rule's) confirmed a guessed handle.
    row = {
        "platform": "weibo",
        "postId": "h1",
        "ingestedAt": "2025-03-05T00:00:00Z",
        "props": {"text": "招行APP闪退", "createdAt": "2025-03-01T02:00:00Z",
                  "sentimentLabel": "NEGATIVE", "authorHandle": "user12"},
        "author": {"handle": "user12", "name": "U", "followers": 3},
        "brands": ["招商银行"],
        "products": [],
    }  # fmt: skip
    await upsert_posts(store, [row])
    assert await ids(officer, "author:user12") == ["h1"]
    brand = as_role("brand_analyst", "marketing", "ba1")
    assert await ids(brand, "招行 label:NEGATIVE") == ["h1"]
    for query, variables, field in (
        (MENTIONS, {"q": "author:user12"}, "filter.query"),
        (MENTIONS, {"q": "招行 AND NOT (author:nobody OR platform:x)"}, "filter.query"),
        (TREND, {"q": "author:user12"}, "query"),
        (SOV, {"brands": ["招商银行"], "q": "author:user12"}, "query"),
    ):
        body = await brand.gql(query, variables)
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_FILTER", body
        assert body["errors"][0]["extensions"]["field"] == field
    rule = """mutation { putAlertRule(id: "r1", rule: {brand: "招商银行", query: "author:user12"})
      { id } }"""
    body = await brand.gql(rule)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_FILTER", body
    assert body["errors"][0]["extensions"]["field"] == "rule.query"
    # A rule stored before (or by someone who sees handles) is listed without its query.
    stored = {"brand": "招商银行", "query": "author:user12", "threshold": 3.0, "baselineDays": 28,
              "minVolume": 20, "channels": []}  # fmt: skip
    await put_rule(store, "r2", stored)
    listed = await brand.gql("{ alertRules { id query } }")
    assert listed["data"]["alertRules"] == [{"id": "r2", "query": None}], listed
    # ... and brandAlerts(rule:) does not evaluate it for them.
    body = await brand.gql(
        '{ brandAlerts(rule: "r2", from: "2025-03-01T00:00:00Z", to: "2025-03-03T00:00:00Z")'
        " { judgedBuckets } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_FILTER", body
    assert body["errors"][0]["extensions"]["field"] == "rule"


QUOTING = {
    "q1": "转发微博 //@user12: 招行APP又闪退了",
    "q2": "@user12 @angry_li 招行 投诉",
    "q3": "招行 user12 不是引用",
}


async def test_terms_do_not_match_the_handles_a_post_quotes(
    store: GraphStore, officer: Api, as_role: Any
) -> None:
    # Session 12 finding: the text is stored with @handles in full (masked on the way out),
    # so a term spelling a handle confirmed it, by the answer or its count, to a caller who
    # sees handles hashed. Terms match the text with its quoted handles left out, for every
    # caller (one meaning per query: a stored rule is evaluated for no one in particular).
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": pid,
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": text, "createdAt": "2025-03-01T02:00:00Z",
                          "sentimentLabel": "NEGATIVE"},
                "author": None,
                "brands": ["招商银行"],
                "products": [],
            }
            for pid, text in QUOTING.items()
        ],
    )  # fmt: skip
    brand = as_role("brand_analyst", "marketing", "ba1")
    for caller in (brand, officer):
        assert await ids(caller, "user12") == ["q3"]  # q3 names it outside a quote: shown
        assert await ids(caller, '"@user12"') == []
        assert await ids(caller, "angry_li OR angry") == []
        assert await ids(caller, "user12 NEAR/2 招行") == ["q3"]
        assert await ids(caller, "招行 AND (闪退 OR 投诉)") == ["q1", "q2"]
        trend = await caller.gql(TREND, {"q": "angry_li"})
        assert [b["count"] for b in trend["data"]["sentimentTrend"]] == [0, 0], trend
        # The plain `term` filter matches the same text.
        body = await caller.gql(
            '{ a: mentions(filter: {term: "angry_li"}) { totalCount }'
            '  b: mentions(filter: {term: "招行"}) { totalCount } }'
        )
        assert body["data"] == {"a": {"totalCount": 0}, "b": {"totalCount": 3}}, body
    # An alert's top terms come from the same text (a term quoting a handle would be shown).
    day = {"start": "d", "since": "2025-03-01T00:00:00Z", "until": "2025-03-02T00:00:00Z"}
    (texts,) = (await texts_in_ranges(store, {}, [day], 10)).values()
    assert len(texts) == 3 and not any("angry" in t or "@user12" in t for t in texts), texts


async def test_posts_stored_before_search_text_are_backfilled(store: GraphStore) -> None:
    # A post written by an older hub has no searchText: it matches no term (fails closed)
    # until open_store writes it.
    await store.write(
        "CREATE (:Post {platform: 'weibo', postId: 'old', text: '@Old_Handle 招行 ＡＰＰ',"
        " createdAt: '2025-03-01T02:00:00Z'})"
    )

    async def found(query: str) -> list[str]:
        _, rows = await search_mentions(store, query_filters(query), 0, 10)
        return [r["postId"] for r in rows]

    assert await found("招行") == []
    assert await backfill_search_text(store) == 1
    assert await backfill_search_text(store) == 0
    (row,) = await store.read("MATCH (p:Post {postId: 'old'}) RETURN p.searchText AS t")
    assert row["t"] == "@ 招行 app"
    assert await found("招行 AND app") == ["old"]
    assert await found("old_handle") == []


async def test_a_bad_datetime_says_what_to_send_not_what_python_said(officer: Api) -> None:
    # QA finding: "invalid literal for int() with base 10: b'nota'" reached the client.
    literal = """{ sentimentTrend(term: "x", from: "notadate", to: "2025-01-01T00:00:00Z",
                                 interval: DAY) { start } }"""
    variable = """query($f: DateTime!) { sentimentTrend(term: "x", from: $f,
                  to: "2025-01-01T00:00:00Z", interval: DAY) { start } }"""
    for body in (await officer.gql(literal), await officer.gql(variable, {"f": "notadate"})):
        message = body["errors"][0]["message"]
        assert 'DateTime: "notadate"; give ISO 8601, e.g. 2025-03-01T08:00:00Z' in message, body
        assert "int()" not in message and "literal" not in message
    assert (await officer.gql(literal))["errors"][0]["extensions"]["code"] == (
        "GRAPHQL_VALIDATION_FAILED"
    )
