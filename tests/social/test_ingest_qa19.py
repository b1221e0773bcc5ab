"""QA round 19 on post files: a resumed run keeps the dead letters before its checkpoint, an
over-long text is a dead letter everywhere (files, webhook, X), a file not in UTF-8 says so and
reads with its encoding, and a broken line's dead letter keeps its text."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.readers import read_records
from ingest.social.files import checkpoint_key
from ingest.social.model import parse_post
from ingest.social.webhook import parse_items
from tests.dead_letters import dead_letters
from tests.social.conftest import invoke, stopped_after_first_batch, summary_rows
from tests.standins.fake_x_api import FakeXState, fake_x_api

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"
# The documented limits (README, "Social posts"): a post's text, a posts file's line, and the
# characters of a broken line its dead letter keeps.
MAX_TEXT_CHARS = 25_000
MAX_POST_LINE_BYTES = 1_000_000
RAW_SHOWN = 4096


def post(pid: str, text: str = "招行客服很好") -> str:
    return json.dumps({"id": pid, "text": text, "created_at": AT}, ensure_ascii=False)


async def test_a_resumed_run_keeps_the_dead_letters_before_its_checkpoint(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "kill.jsonl"
    bad = {3, 8, 22, 27}
    lines = ["{oops" if n in bad else post(f"k{n}") for n in range(1, 31)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "posts.json"

    # Batches of 10 posts: the first ends at line 12 (two bad lines before it).
    await stopped_after_first_batch(store, path, checkpoints, "weibo")
    assert Checkpoint(checkpoints).get(checkpoint_key(path))["line"] == 12

    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    rows = summary_rows(result.output)
    assert rows["resumed after line"] == "12"
    assert rows["dead letters"] == "4 (2 this run)"
    assert "4 line(s) rejected" in result.output
    dead = dead_letters(tmp_path / "kill.dead.jsonl")
    assert [d["line"] for d in dead] == [3, 8, 22, 27]

    # A fresh run (the checkpoint was cleared) rewrites the file: still each line once.
    again = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert again.exit_code == 0, again.output
    assert summary_rows(again.output)["dead letters"] == "4"
    assert [d["line"] for d in dead_letters(tmp_path / "kill.dead.jsonl")] == [3, 8, 22, 27]


async def test_an_over_long_text_is_a_dead_letter_in_files_and_webhooks(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    long_text = "招" * (MAX_TEXT_CHARS + 1)
    reason = (
        f"text: Value error, longer than {MAX_TEXT_CHARS} characters ({MAX_TEXT_CHARS + 1}), "
        "more than any post holds: split it or leave it out"
    )
    with pytest.raises(ValueError, match="longer than"):
        parse_post(json.loads(post("w", long_text)), "weibo")
    assert parse_post(json.loads(post("w", "招" * MAX_TEXT_CHARS)), "weibo").text.startswith("招")
    posts, errors = parse_items(f"[{post('w1')},{post('w2', long_text)}]".encode(), "weibo")
    assert [p.post_id for p in posts] == ["w1"]
    assert errors == [{"index": 1, "reasons": [reason]}]

    path = tmp_path / "long.jsonl"
    huge = "a" * (2 * MAX_POST_LINE_BYTES)
    path.write_text(
        "\n".join([post("l1"), post("l2", long_text), post("l3", huge), post("l4")]) + "\n",
        encoding="utf-8",
    )
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    stored = await store.read("MATCH (p:Post) RETURN p.postId AS id ORDER BY id")
    assert [r["id"] for r in stored] == ["l1", "l4"]
    dead = dead_letters(tmp_path / "long.dead.jsonl")
    assert [d["line"] for d in dead] == [2, 3]
    assert dead[0]["reasons"] == [reason]
    assert dead[1]["reasons"] == [
        f"line longer than {MAX_POST_LINE_BYTES} bytes ({len(post('l3', huge).encode())}): "
        "not read; a record this long is no export's, check the line"
    ]
    raw = str(dead[1]["raw"])
    assert raw.startswith('{"id": "l3"')
    assert raw.endswith(f"… [cut: the first {RAW_SHOWN} characters of this line]")


def test_an_over_long_line_is_refused_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"id": "h", "text": "')
        for _ in range(20):
            fh.write("招" * 1_000_000)  # 60 MB of text in one line
        fh.write(f'", "created_at": "{AT}"}}\n{post("after")}\n')
    tracemalloc.start()
    try:
        records = list(read_records(path, max_line=MAX_POST_LINE_BYTES))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(r.line, r.data is None) for r in records] == [(1, True), (2, False)]
    assert peak < 8 * MAX_POST_LINE_BYTES  # a few MiB of buffers, never the 60 MB line


async def test_an_over_long_tweet_is_left_out(store: GraphStore, cli_env: dict[str, str]) -> None:
    state = FakeXState()
    state.add_tweet(1, "招行客服很好", "user1", "2025-03-01T08:00:00.000Z")
    state.add_tweet(2, "招" * (MAX_TEXT_CHARS + 1), "user2", "2025-03-02T08:00:00.000Z")
    with fake_x_api(state) as (base, _state):
        env = cli_env | {"C360_X_API_BASE": base, "C360_X_BEARER_TOKEN": "test-token"}
        result = await invoke(["ingest", "x", "--query", "招行", "--page-size", "10"], env)
    assert result.exit_code == 0, result.output
    rows = await store.read("MATCH (p:Post {platform: 'x'}) RETURN p.postId AS id")
    assert [r["id"] for r in rows] == ["1"]


async def test_a_gbk_file_says_it_is_not_utf8_and_reads_with_its_encoding(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(
        ("\n".join([post("g1"), post("g2", "光大银行的客服很专业")]) + "\n").encode("gbk")
    )
    args = ["ingest", "posts", str(path), "--platform", "weibo"]
    result = await invoke(args, cli_env)
    assert result.exit_code == 0, result.output
    dead = dead_letters(tmp_path / "gbk.dead.jsonl")
    assert [d["line"] for d in dead] == [1, 2]
    assert dead[0]["reasons"] == [
        "the line is not valid utf-8: convert the file (e.g. iconv -f GB18030 -t UTF-8 "
        "gbk.jsonl > gbk-utf8.jsonl) or give its encoding (--encoding, or encoding under "
        "[source] in the mapping)"
    ]
    assert str(dead[0]["raw"]).startswith('{"id": "g1"')  # the line, bad bytes shown as �

    given = await invoke([*args, "--encoding", "gb18030"], cli_env)
    assert given.exit_code == 0, given.output
    assert summary_rows(given.output)["new posts"] == "2"
    assert not (tmp_path / "gbk.dead.jsonl").exists()
    texts = await store.read("MATCH (p:Post {postId: 'g2'}) RETURN p.text AS t")
    assert texts == [{"t": "光大银行的客服很专业"}]

    # The mapping's [source] encoding applies as well.
    await store.clear()
    mapping = tmp_path / "map.toml"
    mapping.write_text('[source]\nencoding = "gb18030"\n', encoding="utf-8")
    mapped = await invoke([*args, "--mapping", str(mapping)], cli_env)
    assert mapped.exit_code == 0, mapped.output
    assert summary_rows(mapped.output)["new posts"] == "2"


async def test_a_utf16_file_with_its_bom_is_read(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "u16.jsonl"
    path.write_bytes(("\n".join([post("u1"), post("u2")]) + "\n").encode("utf-16"))
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    assert summary_rows(result.output)["new posts"] == "2"


async def test_a_broken_line_keeps_its_text_and_the_hint_says_fix_the_source(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.jsonl"
    cut = '{"id": "b2", "text": "' + "x" * (2 * RAW_SHOWN)
    path.write_text("\n".join([post("b1"), '{"id": "b2", oops', cut]) + "\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    dead = dead_letters(tmp_path / "broken.dead.jsonl")
    assert dead[0]["raw"] == '{"id": "b2", oops'
    assert dead[1]["raw"] == cut[:RAW_SHOWN] + (
        f"… [cut: the first {RAW_SHOWN} characters of this line]"
    )
    output = " ".join(result.output.split())
    assert "Fix those lines in the source file and ingest it again" in output
    assert "fix them and ingest that file again" not in output


async def test_a_line_giving_a_key_twice_is_a_dead_letter_naming_it(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """As the webhook refuses such a body: {"text": "a", "text": "b"} was stored as "b"."""
    path = tmp_path / "twice.jsonl"
    twice = f'{{"id": "t2", "text": "a", "text": "b", "created_at": "{AT}"}}'
    path.write_text("\n".join([post("t1"), twice, post("t3")]) + "\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    stored = await store.read("MATCH (p:Post) RETURN p.postId AS id ORDER BY id")
    assert [r["id"] for r in stored] == ["t1", "t3"]
    (dead,) = dead_letters(tmp_path / "twice.dead.jsonl")
    assert dead["line"] == 2 and dead["raw"] == twice
    assert dead["reasons"] == [
        "the key 'text' appears twice in one object: which value is meant is ambiguous; "
        "send each key once"
    ]
