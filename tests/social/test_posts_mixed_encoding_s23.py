"""Session 23 (QA): a UTF-8 line in a posts file read as GB18030 is a dead letter, as in a CRM
file (one check in ingest.readers), never stored as mojibake over the good post."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from tests.dead_letters import dead_letters
from tests.social.conftest import invoke, summary_rows

AT = "2026-11-30T11:30:00Z"


def post(pid: str, text: str) -> str:
    return json.dumps({"id": pid, "text": text, "created_at": AT}, ensure_ascii=False)


async def test_a_utf8_line_in_a_gb18030_posts_file_is_a_dead_letter(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(post("m1", "招商银行服务很好") + "\n", encoding="utf-8")
    first = await invoke(["ingest", "posts", str(good), "--platform", "weibo"], cli_env)
    assert first.exit_code == 0, first.output

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        post("m1", "招商银行服务很好").encode("utf-8")
        + b"\n"
        + post("m2", "光大银行的客服很专业").encode("gbk")
        + b"\n"
    )
    args = ["ingest", "posts", str(mixed), "--platform", "weibo", "--encoding", "gb18030"]
    result = await invoke(args, cli_env)
    assert result.exit_code == 0, result.output
    assert summary_rows(result.output)["new posts"] == "1"
    dead = dead_letters(tmp_path / "mixed.dead.jsonl")
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (1, ["text: bytes that are not valid gb18030: re-export the file in one encoding"])
    ]
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.text AS text ORDER BY id")
    assert rows == [
        {"id": "m1", "text": "招商银行服务很好"},  # not overwritten with 鎷涘晢閾惰...
        {"id": "m2", "text": "光大银行的客服很专业"},
    ]


async def test_a_posts_dead_letter_names_every_value_the_reader_refused(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # Both values over the 100 000-character limit are named, as a CRM import names them.
    path = tmp_path / "long.jsonl"
    long = {"id": "L1", "text": "好" * 150_000, "author": "a" * 120_000, "created_at": AT}
    path.write_text(json.dumps(long, ensure_ascii=False) + "\n" + post("L2", "好") + "\n")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    dead = dead_letters(tmp_path / "long.dead.jsonl")
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (1, ["text: 150000 characters (limit 100000)", "author: 120000 characters (limit 100000)"])
    ]
    assert await store.read("MATCH (p:Post) RETURN p.postId AS id") == [{"id": "L2"}]
