"""QA round 23 on `c360 ingest posts`: another file written to the path of an interrupted run
starts from line 1 with fresh dead letters (the checkpoint is keyed by path, size and mtime, as
a CRM import's), a posts mapping's [source] time_formats read created_at as a CRM import's do,
a mapping naming fields no post has is refused up front, and a webhook's refusal of a time
does not point at a mapping it cannot have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.mapping import ColumnMapping, MappingError
from ingest.social.files import checkpoint_key, ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from ingest.social.webhook import parse_items
from sentiment.batch import BatchScorer
from tests.dead_letters import dead_letters
from tests.social.conftest import invoke, stopped_after_first_batch, summary_rows

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"
WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"


def post(pid: str, text: str = "招行客服很好", **extra: object) -> str:
    return json.dumps({"id": pid, "text": text, "created_at": AT, **extra}, ensure_ascii=False)


async def stored_ids(store: GraphStore) -> list[str]:
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id")
    return sorted(r["id"] for r in rows)


async def test_a_new_file_at_an_interrupted_runs_path_starts_from_line_one(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "export2.jsonl"
    old = ["{oops" if n in (3, 8) else post(f"old{n}") for n in range(1, 41)]
    path.write_text("\n".join(old) + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "posts.json"

    await stopped_after_first_batch(store, path, checkpoints, "weibo")
    assert Checkpoint(checkpoints).get(checkpoint_key(path))["line"] == 12
    assert [d["line"] for d in dead_letters(tmp_path / "export2.dead.jsonl")] == [3, 8]

    # A new export written over the old one (another size): none of it was read yet.
    new = ["[1]" if n == 20 else post(f"new{n}", "工行的服务还不错") for n in range(1, 26)]
    path.write_text("\n".join(new) + "\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    rows = summary_rows(result.output)
    assert "resumed after line" not in rows
    assert rows["received"] == "24"
    assert rows["dead letters"] == "1"
    ids = await stored_ids(store)
    assert [i for i in ids if i.startswith("new")] == sorted(
        f"new{n}" for n in range(1, 26) if n != 20
    )
    # Only the new file's dead letter: the old file's lines 3 and 8 are no line of this one.
    dead = dead_letters(tmp_path / "export2.dead.jsonl")
    assert [(d["line"], d["raw"]) for d in dead] == [(20, "[1]")]


async def test_a_posts_mapping_reads_created_at_by_its_time_formats(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    mapping = tmp_path / "wmap.toml"
    mapping.write_text(
        f'[source]\ntime_formats = ["{WEIBO_TIME}"]\ntimezone = "UTC"\n'
        '[columns]\n"mid" = "id"\n"screen_name" = "author"\n',
        encoding="utf-8",
    )
    path = tmp_path / "wmap.jsonl"
    lines = [
        {"mid": "wb-1", "text": "招商银行 mapping test", "screen_name": "u9",
         "created_at": "Sat Mar 01 09:00:00 +0800 2025", "reposts_count": 3},
        # Without an offset: the mapping's zone (UTC), not Asia/Shanghai.
        {"mid": "wb-2", "text": "招商银行 naive", "created_at": "2025-03-01 09:00:00"},
        {"mid": "wb-3", "text": "招商银行 epoch", "created_at": 1740790800},
        # A column that is no post field (ignored) is not read as a CRM time field.
        {"mid": "wb-4", "text": "招商银行 other", "created_at": "2025-03-01T09:00:00Z",
         "time": "yesterday"},
        {"mid": "wb-5", "text": "招商银行 bad", "created_at": "01.03.2025"},
    ]  # fmt: skip
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    args = ["ingest", "posts", str(path), "--platform", "weibo", "--mapping", str(mapping)]
    result = await invoke(args, cli_env)
    assert result.exit_code == 0, result.output
    rows = await store.read(
        "MATCH (p:Post) RETURN p.postId AS id, p.createdAt AS t, p.authorHandle AS a"
    )
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == ["wb-1", "wb-2", "wb-3", "wb-4"]
    assert by_id["wb-1"]["t"] == "2025-03-01T01:00:00Z"
    assert by_id["wb-2"]["t"] == "2025-03-01T09:00:00Z"
    assert by_id["wb-3"]["t"] == "2025-03-01T01:00:00Z"
    assert by_id["wb-4"]["t"] == "2025-03-01T09:00:00Z"
    dead = dead_letters(tmp_path / "wmap.dead.jsonl")
    assert [d["line"] for d in dead] == [5]
    assert dead[0]["reasons"] == [
        f"created_at: Value error, not a time in the format {WEIBO_TIME} "
        "(e.g. 2025-03-01T08:00:00+08:00)"
    ]


async def test_a_posts_mapping_naming_no_post_field_is_refused_up_front(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    mapping = tmp_path / "pm.toml"
    mapping.write_text('[columns]\n"发布时间" = "createdAt"\n"内容" = "body"\n', encoding="utf-8")
    path = tmp_path / "pm.jsonl"
    path.write_text(
        '{"id":"pm1","内容":"招行 x","author":"a","发布时间":"2025-03-01T08:00:00Z"}\n',
        encoding="utf-8",
    )
    args = ["ingest", "posts", str(path), "--platform", "weibo", "--mapping", str(mapping)]
    result = await invoke(args, cli_env)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "pm.toml: [columns] names the field 'createdAt', which posts does not have" in said
    assert "valid fields: id, text, author, created_at," in said
    assert await stored_ids(store) == []
    assert not (tmp_path / "pm.dead.jsonl").exists()

    # The library refuses it too, before reading a line.
    with BatchScorer(max_workers=1) as scorer, pytest.raises(MappingError, match="'createdAt'"):
        await ingest_file(
            PostPipeline(store, scorer, TermMatcher.load(None)),
            path,
            Checkpoint(tmp_path / "cp.json"),
            platform="weibo",
            mapping=ColumnMapping.load(mapping),
        )
    assert not (tmp_path / "pm.dead.jsonl").exists()

    # Fields a post has are taken.
    mapping.write_text('[columns]\n"发布时间" = "created_at"\n"内容" = "text"\n', encoding="utf-8")
    again = await invoke(args, cli_env)
    assert again.exit_code == 0, again.output
    assert await stored_ids(store) == ["pm1"]


async def test_a_webhook_refusing_a_time_does_not_point_at_a_mapping(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    weibo = {"id": "w1", "text": "招行 x", "created_at": "Sat Mar 01 09:00:00 +0800 2025"}
    posts, errors = parse_items(json.dumps([weibo]).encode(), "weibo")
    assert posts == []
    assert errors == [
        {
            "index": 0,
            "reasons": [
                "created_at: Value error, not a time in ISO-8601 (e.g. "
                "2025-03-01T08:00:00+08:00), the one text format a webhook takes (with an "
                "offset, else Asia/Shanghai time) besides Unix epoch seconds (10 digits) or "
                "milliseconds (13 digits)"
            ],
        }
    ]
    # A file can give other formats by its mapping, and says so.
    path = tmp_path / "weibo.jsonl"
    path.write_text(json.dumps(weibo, ensure_ascii=False) + "\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--platform", "weibo"], cli_env)
    assert result.exit_code == 0, result.output
    (dead,) = dead_letters(tmp_path / "weibo.dead.jsonl")
    # One reason: the advice in the same one (a dead letter splits reasons at "; ").
    assert dead["reasons"] == [
        "created_at: Value error, not a time in ISO-8601 (e.g. 2025-03-01T08:00:00+08:00) - an "
        'import reads other formats by its mapping\'s time_formats = ["%d.%m.%Y %H:%M"]',
    ]
