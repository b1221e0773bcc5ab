"""QA round 14 on social listening: the post link withheld from callers who see handles
hashed, forged cursors and far windows refused, terms normalised, alert rule checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from sentiment.batch import BatchScorer
from tests.api.conftest import Api
from tests.api.test_social_api import error, ok

TERMS = Path(__file__).parents[2] / "examples" / "social" / "terms.toml"
HANDLE = "secret_handle_42"
URL = f"https://x.com/{HANDLE}/status/1234567890"
AT = "2026-11-30T11:30:00Z"


async def ingest(store: GraphStore, tmp_path: Path, posts: list[dict[str, Any]]) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(orjson.dumps(p).decode() for p in posts) + "\n", encoding="utf-8")
    with BatchScorer(max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, TermMatcher.load(TERMS))
        result = await ingest_file(pipeline, path, Checkpoint(tmp_path / "cp.json"), platform="x")
    assert result.rejected == 0


POSTS = [
    {
        "id": "url1",
        "text": "招行信用卡客服解决问题很快 APP (1130022)",
        "author": HANDLE,
        "created_at": "2026-11-30T11:30:00Z",
        "url": URL,
    }
]
NODES = "{ totalCount edges { node { postId url author { handle } } } }"


async def test_post_url_is_withheld_when_the_handle_is_hashed(
    store: GraphStore,
    as_role: Callable[..., Api],
    officer: Api,
    tmp_path: Path,
    data_dir: Path,
) -> None:
    await ingest(store, tmp_path, POSTS)
    brand = as_role("brand_analyst", "marketing", "b1")
    query = f'query Links {{ mentions(filter: {{platform: "x"}}) {NODES} }}'
    seen = ok(await brand.gql(query))["mentions"]["edges"]
    assert seen and seen[0]["node"]["author"]["handle"].startswith("h:")
    assert HANDLE not in str(seen) and seen[0]["node"]["url"] is None
    full = ok(await officer.gql(query))["mentions"]["edges"]
    assert full[0]["node"]["url"] == URL and full[0]["node"]["author"]["handle"] == HANDLE
    # The same link written into a post's text: its handle masked like an @handle, and no
    # term finds it (a count would confirm a guessed handle).
    quoting = {"id": "url2", "text": f"招行 见 {URL}", "author": "other", "created_at": AT}
    await ingest(store, tmp_path, [quoting])
    text = '{ mentions(filter: {term: "见"}) { edges { node { text } } } }'
    (shown,) = ok(await brand.gql(text))["mentions"]["edges"]
    assert HANDLE not in shown["node"]["text"] and "x.com/h:" in shown["node"]["text"]
    (plain,) = ok(await officer.gql(text))["mentions"]["edges"]
    assert plain["node"]["text"] == quoting["text"]
    probe = f'{{ mentions(filter: {{term: "{HANDLE}"}}) {{ totalCount }} }}'
    assert ok(await brand.gql(probe))["mentions"]["totalCount"] == 0
    # Audited like the handle: masked for the analyst, revealed for the officer.
    records = [
        r
        for r in AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
        if r["operation"] == "Links"
    ]
    assert len(records) == 2
    analyst, officer_read = (r["fields"]["Post:x:url1"] for r in records)
    assert analyst == {"masked": ["url"], "revealed": []}
    assert officer_read == {"masked": [], "revealed": ["url"]}


async def test_forged_cursor_and_far_windows_are_bad_input(
    store: GraphStore, as_role: Callable[..., Api], tmp_path: Path
) -> None:
    await ingest(store, tmp_path, POSTS)
    brand = as_role("brand_analyst", "marketing", "b1")
    forged = "WyI5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTkiXQ=="  # ["99999999999999999999999999"]
    body = await brand.gql(f'{{ mentions(after: "{forged}") {{ totalCount }} }}')
    assert error(body)["code"] == "BAD_USER_INPUT" and error(body)["field"] == "after"
    for lo, hi in [
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
    ]:
        for zone in ("", ', timezone: "Asia/Shanghai"'):
            trend = await brand.gql(
                f'{{ sentimentTrend(brand: "招商银行", from: "{lo}", to: "{hi}", '
                f"interval: DAY{zone}) {{ count }} }}"
            )
            assert error(trend)["code"] == "BAD_USER_INPUT", trend
        voice = await brand.gql(
            f'{{ shareOfVoice(brands: ["招商银行"], from: "{lo}", to: "{hi}", interval: DAY) '
            "{ timezone } }"
        )
        assert error(voice)["code"] == "BAD_USER_INPUT", voice
        found = await brand.gql(
            f'{{ mentions(filter: {{from: "{lo}", to: "{hi}"}}) {{ totalCount }} }}'
        )
        assert error(found)["code"] == "BAD_USER_INPUT", found


async def test_term_is_matched_nfkc_normalised_like_the_query_language(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    await ingest(store, tmp_path, POSTS)
    for term in ("ＡＰＰ", "app", "（1130022）", "(1130022)"):
        found = ok(await officer.gql(f'{{ mentions(filter: {{term: "{term}"}}) {NODES} }}'))
        assert found["mentions"]["totalCount"] == 1, term
        assert (
            ok(await officer.gql(f'{{ mentions(filter: {{query: "{term}"}}) {NODES} }}')) == found
        )
        trend = await officer.gql(
            f'{{ sentimentTrend(term: "{term}", from: "2026-11-30T00:00:00Z", '
            'to: "2026-12-01T00:00:00Z", interval: DAY) { count } }'
        )
        assert sum(b["count"] for b in ok(trend)["sentimentTrend"]) == 1, term


def feed_post(pid: str, minute: int) -> dict[str, Any]:
    return {
        "id": pid,
        "text": "招行客服",
        "author": "u",
        "created_at": f"2026-11-30T10:{minute:02d}:00Z",
    }


PAGE = """query($f: MentionFilter, $after: String) {
  mentions(filter: $f, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { postId } } } }"""


async def test_paging_a_live_feed_neither_repeats_nor_skips(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    # Five posts, two at the same minute (ordered by platform and id then).
    await ingest(store, tmp_path, [feed_post(f"f{i}", m) for i, m in enumerate([1, 2, 2, 3, 4])])
    for query in (None, "招行 NEAR/3 客服"):  # the graph's page, and the one decided in Python
        f: dict[str, Any] = {"platform": "x"} | ({"query": query} if query else {})
        seen: list[str] = []
        body = ok(await officer.gql(PAGE, {"f": f}))["mentions"]
        seen += [e["node"]["postId"] for e in body["edges"]]
        # Newer posts arrive between pages: a position cursor would show f2 (now third) again.
        await ingest(store, tmp_path, [feed_post(f"new{query is None}{i}", 50 + i) for i in (0, 1)])
        while body["pageInfo"]["hasNextPage"]:
            after = body["pageInfo"]["endCursor"]
            body = ok(await officer.gql(PAGE, {"f": f, "after": after}))["mentions"]
            seen += [e["node"]["postId"] for e in body["edges"]]
        if query is None:
            assert seen == ["f4", "f3", "f1", "f2", "f0"]
        assert sorted(x for x in seen if x.startswith("f")) == ["f0", "f1", "f2", "f3", "f4"]
        assert len(seen) == len(set(seen)), seen
