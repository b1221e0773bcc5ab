from __future__ import annotations

import json
import shutil
from pathlib import Path

from graph.repositories import social as repo
from graph.store import GraphStore
from ingest.social.stream_check import write_lines
from sentiment.trends import from_rows
from tests.social.conftest import invoke, summary_rows

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"


async def test_jsonl_labels_dedupe_dead_letters(store: GraphStore, cli_env, tmp_path: Path) -> None:
    posts = tmp_path / "weibo.jsonl"
    shutil.copy(EXAMPLES / "posts.jsonl", posts)
    env = cli_env | {"C360_TERMS": str(EXAMPLES / "terms.toml")}
    result = await invoke(["ingest", "posts", str(posts), "--platform", "weibo"], env)
    assert result.exit_code == 0, result.output
    assert "2 line(s) rejected" in result.output

    rows = await store.read(
        "MATCH (p:Post) RETURN p.postId AS id, p.sentimentLabel AS label, "
        "p.sentimentScore AS score, p.duplicateOf AS dup, p.isRepost AS repost, "
        "p.likes AS likes, p.brands AS brands, p.keywords AS kw, p.createdAt AS t"
    )
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == ["w1", "w2", "w3", "w4"]  # w2 twice -> one post
    assert by_id["w1"]["label"] == "POSITIVE"
    assert by_id["w1"]["t"] == "2025-03-01T01:00:00Z"
    assert by_id["w2"]["label"] == "NEGATIVE"
    assert by_id["w2"]["likes"] == 41  # the later copy's fresher metrics
    assert by_id["w2"]["kw"] == ["闪退", "投诉"]
    assert by_id["w3"]["label"] == "UNSUPPORTED" and by_id["w3"]["score"] is None
    assert by_id["w3"]["brands"] == ["招商银行"]  # "CMB", case-insensitive
    assert by_id["w4"]["dup"] == "weibo:w2" and by_id["w4"]["repost"] is True

    dead = [json.loads(line) for line in (tmp_path / "weibo.dead.jsonl").read_text().splitlines()]
    assert [d["line"] for d in dead] == [6, 7]
    assert "not valid JSON" in dead[0]["reasons"][0]
    assert dead[1]["reasons"][0].startswith("text:")

    total, page = await repo.search_mentions(store, {"brand": "招商银行"}, 0, 10)
    assert total == 4 and [p["postId"] for p in page] == ["w3", "w4", "w2", "w1"]
    total, _ = await repo.search_mentions(
        store, {"brand": "招商银行", "includeReposts": False}, 0, 10
    )
    assert total == 3
    total, _ = await repo.search_mentions(store, {"label": "NEGATIVE", "platform": "weibo"}, 0, 10)
    assert total == 2

    days = from_rows(await repo.trend_rows(store, {"brand": "招商银行"}, 10), "DAY")
    assert [(b.start[:10], b.count, b.positive, b.negative) for b in days] == [
        ("2025-03-01", 2, 1, 1),
        ("2025-03-02", 2, 0, 1),
    ]

    again = await invoke(["ingest", "posts", str(posts), "--platform", "weibo"], env)
    assert again.exit_code == 0, again.output
    assert len(await store.read("MATCH (p:Post) RETURN p.postId AS id")) == 4


async def test_summary_tells_new_edited_and_repeated_posts(
    store: GraphStore, cli_env, tmp_path: Path
) -> None:
    first = {"id": "e1", "text": "招行客服很耐心，非常满意", "created_at": "2025-03-01T08:00:00Z"}
    second = {"id": "e2", "text": "招行网点排队很快", "created_at": "2025-03-01T09:00:00Z"}
    args = ["ingest", "posts", "--platform", "weibo"]
    one = await invoke([*args, str(write_lines(tmp_path / "a.jsonl", [first, second]))], cli_env)
    assert one.exit_code == 0, one.output
    before = await store.read("MATCH (p:Post {postId: 'e2'}) RETURN p.sentimentLabel AS l")

    edited = {**second, "text": "招行网点排队两小时，太差了，投诉"}
    new = {"id": "e3", "text": "招行信用卡额度提了", "created_at": "2025-03-02T08:00:00Z"}
    lines = [first, edited, new, {**new, "text": "招行信用卡额度又提了"}]
    two = await invoke([*args, str(write_lines(tmp_path / "b.jsonl", lines))], cli_env)
    assert two.exit_code == 0, two.output
    rows = summary_rows(two.output)
    assert rows["received"] == "4" and rows["new posts"] == "1"
    assert rows["updated (text edited, re-scored)"] == "1"
    assert rows["unchanged (stored, same text)"] == "1"
    assert rows["same-id duplicates"] == "1"
    after = await store.read(
        "MATCH (p:Post {postId: 'e2'}) RETURN p.text AS t, p.sentimentLabel AS l"
    )
    assert after[0]["t"] == edited["text"]
    assert (before[0]["l"], after[0]["l"]) == ("POSITIVE", "NEGATIVE")


async def test_an_edit_sets_the_tags_from_the_new_text(
    store: GraphStore, cli_env, tmp_path: Path
) -> None:
    # An edited post that no longer names a brand (or product) kept the old MENTIONS: the
    # write only ever added tags, so product sentiment still counted the post for the old one.
    env = cli_env | {"C360_TERMS": str(EXAMPLES / "terms.toml")}
    args = ["ingest", "posts", "--platform", "weibo"]
    post = {"id": "t1", "text": "招行信用卡额度提了", "created_at": "2025-03-01T08:00:00Z"}
    other = {"id": "t2", "text": "建行房贷利率降了", "created_at": "2025-03-01T09:00:00Z"}

    async def tags() -> dict[str, list[str]]:
        rows = await store.read(
            "MATCH (p:Post)-[:MENTIONS]->(t) "
            "RETURN p.postId AS id, coalesce(t.name, t.code) AS tag ORDER BY id, tag"
        )
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["id"], []).append(r["tag"])
        return out

    one = await invoke([*args, str(write_lines(tmp_path / "a.jsonl", [post, other]))], env)
    assert one.exit_code == 0, one.output
    assert await tags() == {"t1": ["CREDIT-CARD", "招商银行"], "t2": ["MORTGAGE", "建设银行"]}

    edited = {**post, "text": "工行手机银行很好用，招行信用卡也不错"}
    two = await invoke([*args, str(write_lines(tmp_path / "b.jsonl", [edited, other]))], env)
    assert two.exit_code == 0, two.output
    both = ["CREDIT-CARD", "MOBILE-APP", "工商银行", "招商银行"]
    assert await tags() == {"t1": both, "t2": ["MORTGAGE", "建设银行"]}

    again = {**post, "text": "工行手机银行很好用"}
    three = await invoke([*args, str(write_lines(tmp_path / "c.jsonl", [again, other]))], env)
    assert three.exit_code == 0, three.output
    assert await tags() == {"t1": ["MOBILE-APP", "工商银行"], "t2": ["MORTGAGE", "建设银行"]}
    stored = await store.read("MATCH (p:Post {postId: 't1'}) RETURN p.brands AS b, p.products AS x")
    assert stored == [{"b": ["工商银行"], "x": ["MOBILE-APP"]}]
