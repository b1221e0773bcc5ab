"""Session 21 QA of social listening: post times given as a date alone, numbers that are no
epoch time, engagement counts beyond 32 bits, traditional Chinese brands, re-settled
duplicate groups, webhook timestamps and post links."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import orjson

from graph.store import GraphStore
from ingest.social.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers
from tests.social.conftest import invoke
from tests.social.test_webhook import SECRET, app_for, post

TEXT = "招商银行 客服很好"


def line(post_id: str, created_at: Any, **extra: Any) -> dict[str, Any]:
    return {"id": post_id, "text": TEXT, "author": "a", "created_at": created_at, **extra}


async def ingest_lines(
    cli_env: dict[str, str], tmp_path: Path, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Imports ``lines`` as a JSONL export; the dead letters."""
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    dead = tmp_path / "posts.dead.jsonl"
    return [json.loads(x) for x in dead.read_text().splitlines()] if dead.exists() else []


async def times(store: GraphStore) -> dict[str, str]:
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.createdAt AS t")
    return {r["id"]: r["t"] for r in rows}


async def test_a_date_alone_is_midnight_in_shanghai(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dates = {"d1": "2025-03-11", "d2": "20250311", "d3": "2025/3/11"}
    dead = await ingest_lines(cli_env, tmp_path, [line(i, d) for i, d in dates.items()])
    assert dead == []
    # 00:00 on 11 March in Asia/Shanghai (the zone of times without an offset), stored as
    # UTC like every post time: never the bare date, which readers took for 00:00 UTC.
    assert await times(store) == dict.fromkeys(dates, "2025-03-10T16:00:00Z")
    body = orjson.dumps([line("w1", "2025-03-11"), line("w2", "2025/3/11")])
    response = await post(app_for(store), body, signed_headers(SECRET, body))
    assert response.status_code == 200, response.text
    stored = await times(store)
    assert (stored["w1"], stored["w2"]) == ("2025-03-10T16:00:00Z",) * 2


async def test_a_number_that_is_no_epoch_time_is_refused(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    lines = [
        line("n1", 20250311),  # a date written as a number: not 1970-08-23
        line("n2", 1764400000),  # epoch seconds
        line("n3", 1764400000123),  # epoch milliseconds
        line("n4", 86400),  # too small to be a post's epoch time
        line("n5", True),
    ]
    dead = await ingest_lines(cli_env, tmp_path, lines)
    assert [d["line"] for d in dead] == [1, 4, 5]
    assert "epoch seconds (10 digits) or milliseconds (13 digits)" in dead[0]["reasons"][0]
    assert "20250311" in dead[0]["reasons"][0]
    assert "boolean" in dead[2]["reasons"][0]
    assert await times(store) == {"n2": "2025-11-29T07:06:40Z", "n3": "2025-11-29T07:06:40Z"}


COMPLAINT = "招行信用卡盗刷了没人管，投诉三次都没用"


async def test_an_edited_original_leaves_its_group_settled(store: GraphStore) -> None:
    app, pushes = app_for(store), 0

    async def push(post_id: str, at: str, text: str = COMPLAINT) -> None:
        nonlocal pushes
        pushes += 1  # a new timestamp each: a new push, not a replay
        item = {"id": post_id, "text": text, "author": post_id, "created_at": at}
        body = orjson.dumps([item])
        headers = signed_headers(SECRET, body, now=time.time() + pushes)
        response = await post(app, body, headers)
        assert response.status_code == 200, response.text

    async def groups() -> dict[str, str | None]:
        rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.duplicateOf AS dup")
        return {r["id"]: r["dup"] for r in rows}

    await push("e-1", "2025-03-01T10:00:00Z")
    await push("e-3", "2025-03-01T11:00:00Z")
    await push("e-2", "2025-03-01T09:00:00Z")
    assert await groups() == {"e-1": "wechat:e-2", "e-2": None, "e-3": "wechat:e-2"}
    await push("e-2", "2025-03-01T12:00:00Z")  # the same post, dated later: e-1 is earliest
    assert await groups() == {"e-1": None, "e-2": "wechat:e-1", "e-3": "wechat:e-1"}
    # e-1's text edited: it leaves the group, whose earliest post (e-3) is its original now;
    # the complaint is still counted once (it was counted none: both pointed at e-1).
    await push("e-1", "2025-03-01T10:00:00Z", "招行客服今天很快解决了问题")
    assert await groups() == {"e-1": None, "e-2": "wechat:e-3", "e-3": None}


async def test_a_timestamp_of_400_digits_is_a_401(store: GraphStore) -> None:
    body = orjson.dumps([line("m1", "2025-03-01T08:00:00Z")])
    for stamp in ("9" * 400, "9" * 5000, "0" * 30 + str(int(time.time()))):
        headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, body, stamp)}
        response = await post(app_for(store), body, headers)
        assert response.status_code == 401, response.text
        assert "from the hub's clock" in response.json()["error"]
    assert await times(store) == {}


async def test_a_link_that_is_no_web_page_is_refused(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = "https://weibo.com/1234/AbCd"
    lines = [
        line("u1", "2025-03-01T08:00:00Z", url="javascript:alert(1)"),
        line("u2", "2025-03-01T08:00:00Z", url=" JavaScript:alert(1)"),
        line("u3", "2025-03-01T08:00:00Z", url="data:text/html,<script>alert(1)</script>"),
        line("u4", "2025-03-01T08:00:00Z", url="//evil.example/x"),
        line("u5", "2025-03-01T08:00:00Z", url=good),
        line("u6", "2025-03-01T08:00:00Z", url=""),
    ]
    dead = await ingest_lines(cli_env, tmp_path, lines)
    assert [d["line"] for d in dead] == [1, 2, 3, 4]
    assert all(d["reasons"][0].startswith("url: Value error, not an http(s) link") for d in dead)
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.url AS url")
    assert {r["id"]: r["url"] for r in rows} == {"u5": good, "u6": None}
    body = orjson.dumps([line("w1", "2025-03-01T08:00:00Z", url="javascript:alert(1)")])
    response = await post(app_for(store), body, signed_headers(SECRET, body))
    assert response.status_code == 400
    assert response.json()["items"][0]["reasons"][0].startswith("url: ")
