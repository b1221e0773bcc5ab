"""A handle has no whitespace: a post whose author is given with a space (a display name, two
handles run together) is a dead letter with its reason, the rest of the file is stored;
handles as X and Weibo write them are taken. Real pipeline and embedded FalkorDB (session 22)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.model import parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer

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
