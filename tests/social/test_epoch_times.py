"""A post's ``created_at`` as epoch seconds or milliseconds, a JSON number or a quoted one (as
exports often write numbers), through the real import; an epoch beyond the calendar is a dead
letter, not a crash."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from tests.social.conftest import invoke


async def test_quoted_and_numeric_epochs(store: GraphStore, cli_env, tmp_path: Path) -> None:
    lines = [
        {"id": "e1", "text": "招商银行 好", "author": "a", "created_at": 1764400000},
        {"id": "e2", "text": "招商银行 好", "author": "a", "created_at": "1764400000"},
        {"id": "e3", "text": "招商银行 好", "author": "a", "created_at": "1764400000000"},
        {"id": "e4", "text": "招商银行 好", "author": "a", "created_at": 10**20},
        {"id": "e5", "text": "招商银行 好", "author": "a", "created_at": "202603011200"},
    ]
    posts = tmp_path / "epochs.jsonl"
    posts.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    result = await invoke(["ingest", "posts", str(posts), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.createdAt AS t")
    assert {r["id"]: r["t"] for r in rows} == {
        cid: "2025-11-29T07:06:40Z" for cid in ("e1", "e2", "e3")
    }
    dead = [json.loads(x) for x in (tmp_path / "epochs.dead.jsonl").read_text().splitlines()]
    assert [d["line"] for d in dead] == [4, 5]
    assert "out of range" in dead[0]["reasons"][0]
