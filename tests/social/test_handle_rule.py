"""A handle has no whitespace: a post whose author is given with a space (a display name, two
handles run together) is a dead letter with its reason, the rest of the file is stored;
handles as X and Weibo write them are taken. Real pipeline and embedded FalkorDB (session 22)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.repositories import social as repo
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.model import parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from tests.social.conftest import invoke

# Handles as the platforms write them: X (letters, digits, _), Weibo (Chinese characters,
# letters, digits, _ and -), a WeChat id; an emoji sequence bound by the zero-width joiner.
VALID = ["jack_ma", "Elon_Musk99", "招商银行信用卡", "王丽-Wang_88", "wxid_a1b2c3", "🧑\u200d💻dev"]
SPACED = ["wang li", "王\u3000丽", "wang\tli", "wang\u00a0li", "a\u2028b"]


@pytest.mark.parametrize("handle", SPACED)
def test_a_handle_with_whitespace_is_refused_by_the_one_rule(handle: str) -> None:
    raw = {"id": "1", "text": "招商银行", "author": handle, "created_at": "2026-11-30"}
    with pytest.raises(ValueError, match=r"^author: .*whitespace"):
        parse_post(raw, "weibo")  # the webhook's and the files' validation


@pytest.mark.parametrize("handle", VALID)
def test_handles_as_the_platforms_write_them_are_taken(handle: str) -> None:
    raw = {"id": "1", "text": "招商银行", "author": f" {handle} ", "created_at": "2026-11-30"}
    assert parse_post(raw, "weibo").author_handle == handle  # outer spaces stripped, as before


async def test_a_post_by_a_spaced_handle_is_a_dead_letter(
    store: GraphStore, tmp_path: Path
) -> None:
    posts = [
        {"id": str(n), "text": "招商银行 手机银行", "author": handle,
         "created_at": "2026-11-30T08:00:00Z"}
        for n, handle in enumerate([*VALID, *SPACED])
    ]  # fmt: skip
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    with BatchScorer(max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, TermMatcher.default())
        done = await ingest_file(pipeline, path, Checkpoint(tmp_path / "cp.json"), platform="weibo")
    assert (done.totals.new, done.rejected) == (len(VALID), len(SPACED))
    # Lines split at \n only: a dead letter quotes U+2028 as it is.
    raw = path.with_suffix(".dead.jsonl").read_bytes()
    dead = [json.loads(x) for x in raw.split(b"\n") if x]
    assert [d["line"] for d in dead] == list(range(len(VALID) + 1, len(posts) + 1))
    for letter in dead:
        (reason,) = letter["reasons"]
        assert reason.startswith("author: ") and "whitespace" in reason, reason
    handles = await store.read("MATCH (a:SocialAccount) RETURN a.handle AS h ORDER BY h")
    assert sorted(r["h"] for r in handles) == sorted(VALID)


# QA, session 22: ingest stored "@oldA" and the full-width "ｏｌｄＡ" as accounts beside "oldA",
# while links strip the "@" and refuse the full-width form: a post by "@oldA" never reached the
# linked customer, and after oldA's owner was erased it made a new account under a new key.
@pytest.mark.parametrize("written", ["@oldA", " @oldA ", "oldA"])
def test_a_leading_at_is_no_part_of_the_handle(written: str) -> None:
    raw = {"id": "1", "text": "招商银行", "author": written, "created_at": "2026-11-30"}
    for platform in ("weibo", "x"):
        assert parse_post(raw, platform).author_handle == "oldA"


@pytest.mark.parametrize("handle", ["ｏｌｄＡ", "ａｂ", "＠oldA", "old\u2126"])
def test_a_full_width_handle_is_refused_as_links_refuse_it(handle: str) -> None:
    raw = {"id": "1", "text": "招商银行", "author": handle, "created_at": "2026-11-30"}
    with pytest.raises(ValueError, match=r"^author: .*NFKC"):
        parse_post(raw, "weibo")


async def test_a_post_by_the_at_form_reaches_the_linked_customer(
    store: GraphStore, cli_env, tmp_path: Path
) -> None:
    await store.write("CREATE (:Customer {id: 'C0005', name: '王五'})")
    links = tmp_path / "links.csv"
    links.write_text("customerId,platform,handle\nC0005,weibo,@oldA\n", encoding="utf-8")
    result = await invoke(["import", "social-accounts", str(links)], cli_env)
    assert result.exit_code == 0, result.output
    posts = [
        {"id": "p1", "text": "招商银行 手机银行", "author": "@oldA", "created_at": "2026-11-30"},
        {"id": "p2", "text": "招商银行 信用卡", "author": "oldA", "created_at": "2026-11-30"},
        {"id": "p3", "text": "招商银行 网点", "author": "ｏｌｄＡ", "created_at": "2026-11-30"},
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    (dead,) = [json.loads(x) for x in path.with_suffix(".dead.jsonl").read_bytes().splitlines()]
    assert dead["line"] == 3 and dead["reasons"][0].startswith("author: "), dead
    accounts = await store.read("MATCH (a:SocialAccount) RETURN a.handle AS h")
    assert [r["h"] for r in accounts] == ["oldA"]  # one account, one key
    total, page = (await repo.customer_posts(store, ["C0005"], 10))["C0005"]
    assert total == 2 and sorted(p["postId"] for p in page) == ["p1", "p2"]
