"""QA round 14 on post ingest: control characters are a per-line error (files and webhook
agree), and one batch repeating a post never rolls its metrics back."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from ingest.social.model import parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from ingest.social.webhook import parse_items
from sentiment.batch import BatchScorer
from tests.social.conftest import invoke

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"


def line(pid: str, text: str, **extra: object) -> str:
    return json.dumps({"id": pid, "text": text, "author": "u", "created_at": AT, **extra})


async def test_control_characters_are_dead_lettered_and_good_lines_stored(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "nul2.jsonl"
    lines = [
        line("n1", "光大银行的客服很专业"),
        line("n2", "招行\u0000坏"),
        line("n3", "招行\u001b坏"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = cli_env | {"C360_TERMS": str(EXAMPLES / "terms.toml")}
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], env)
    assert result.exit_code == 0, result.output
    rows = await store.read(
        "MATCH (p:Post) WHERE p.postId IN ['n1','n2','n3'] RETURN p.postId AS id"
    )
    assert [r["id"] for r in rows] == ["n1"]
    dead = [json.loads(x) for x in (tmp_path / "nul2.dead.jsonl").read_text().splitlines()]
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (2, ["contains a control character"]),
        (3, ["contains a control character"]),
    ]
    # The webhook refuses the same items with the same reason.
    body = ("[" + ",".join(lines) + "]").encode()
    posts, errors = parse_items(body, "weibo")
    assert [p.post_id for p in posts] == ["n1"]
    assert errors == [
        {"index": 1, "reasons": ["contains a control character"]},
        {"index": 2, "reasons": ["contains a control character"]},
    ]
    # Tab and line feed are ordinary text.
    assert parse_post(json.loads(line("t", "a\tb\nc")), "weibo").text == "a\tb\nc"


async def test_a_repeated_post_in_one_file_or_push_never_rolls_metrics_back(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "dup.jsonl"
    lines = [
        line("d1", "招行客服不错", likes=9, views=100),
        line("d1", "招行客服不错（改）", likes=2),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = cli_env | {"C360_TERMS": str(EXAMPLES / "terms.toml")}
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], env)
    assert result.exit_code == 0, result.output
    # One webhook push with three copies (likes 9, then 4, then 4).
    copies = [
        line("qa21", "招行", likes=9),
        line("qa21", "招行", likes=4),
        line("qa21", "招行", likes=4),
    ]
    posts, errors = parse_items(("[" + ",".join(copies) + "]").encode(), "x")
    assert errors == []
    with BatchScorer(max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, TermMatcher.load(EXAMPLES / "terms.toml"))
        await pipeline.ingest(posts)
    rows = await store.read(
        "MATCH (p:Post) WHERE p.postId IN ['d1', 'qa21'] "
        "RETURN p.postId AS id, p.text AS text, p.likes AS likes, p.views AS views ORDER BY id"
    )
    assert rows == [
        {"id": "d1", "text": "招行客服不错（改）", "likes": 9, "views": 100},  # the later text
        {"id": "qa21", "text": "招行", "likes": 9, "views": None},
    ]
