"""QA round 25 on `c360 ingest posts`: a re-run with another --platform (or mapping, or
--encoding) does not resume the interrupted run's checkpoint; a second run of the same file
is refused while one runs; blank and grouped counts, language tags, a JSON array or a folder
given for a JSON Lines file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.readers import UnsupportedFile, read_records
from ingest.runlock import ImportRunning, import_lock
from ingest.social.files import checkpoint_key, ingest_file
from ingest.social.model import parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from tests.social.conftest import invoke, stopped_after_first_batch, summary_rows

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"


def post(pid: str, **extra: object) -> str:
    body = {"id": pid, "text": "招行客服很好", "created_at": AT, **extra}
    return json.dumps(body, ensure_ascii=False)


async def platforms_of(store: GraphStore, prefix: str) -> dict[str, int]:
    rows = await store.read(
        "MATCH (p:Post) WHERE p.postId STARTS WITH $p RETURN p.platform AS platform, count(*) AS n",
        {"p": prefix},
    )
    return {r["platform"]: r["n"] for r in rows}


async def test_a_rerun_with_another_platform_starts_over_and_says_so(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "plat.jsonl"
    path.write_text("\n".join(post(f"plat{n}") for n in range(1, 31)) + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "posts.json"

    await stopped_after_first_batch(store, path, checkpoints, "weibo")
    entry = Checkpoint(checkpoints).get(checkpoint_key(path))
    assert entry["line"] == 10
    assert entry["options"]["--platform"] == "weibo"

    result = await invoke(["ingest", "posts", str(path), "--platform", "forum"], cli_env)
    assert result.exit_code == 0, result.output
    rows = summary_rows(result.output)
    assert "resumed after line" not in rows
    assert rows["received"] == "30"
    assert "started over" in result.output and "--platform" in result.output
    # Every line read again as forum; the ten the first run stored stay weibo posts.
    assert await platforms_of(store, "plat") == {"weibo": 10, "forum": 30}
    assert Checkpoint(checkpoints).get(checkpoint_key(path)) is None


async def test_the_same_options_resume_after_the_stored_line(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "same.jsonl"
    path.write_text("\n".join(post(f"same{n}") for n in range(1, 31)) + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "posts.json"

    await stopped_after_first_batch(store, path, checkpoints, "forum")
    result = await invoke(["ingest", "posts", str(path), "--platform", "forum"], cli_env)
    assert result.exit_code == 0, result.output
    rows = summary_rows(result.output)
    assert rows["resumed after line"] == "10"
    assert rows["received"] == "20"
    assert await platforms_of(store, "same") == {"forum": 30}


async def test_a_second_run_of_the_same_file_is_refused_while_one_runs(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "busy.jsonl"
    path.write_text(post("busy1") + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints"
    # The lock a running `c360 ingest posts` of this file holds.
    with import_lock(checkpoints, checkpoint_key(path), path.name):
        result = await invoke(["ingest", "posts", str(path), "--platform", "forum"], cli_env)
        with BatchScorer(max_workers=1) as scorer, pytest.raises(ImportRunning):
            pipeline = PostPipeline(store, scorer, TermMatcher.load(EXAMPLES / "terms.toml"))
            await ingest_file(
                pipeline, path, Checkpoint(checkpoints / "posts.json"), platform="forum"
            )
    assert result.exit_code == 2, result.output
    assert "another import of busy.jsonl is running" in result.output
    assert await platforms_of(store, "busy") == {}


@pytest.mark.parametrize(
    ("given", "stored"),
    [("", None), ("  ", None), ("1,234", 1234), ("12,345,678", 12345678), (" 7 ", 7)],
)
def test_blank_and_grouped_counts_are_read_as_exports_write_them(
    given: str, stored: int | None
) -> None:
    assert parse_post(json.loads(post("c1", likes=given, views=given)), "forum").likes == stored


@pytest.mark.parametrize("given", ["1,23", "12,3456", "-3", "x"])
def test_counts_in_no_known_form_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="likes"):
        parse_post(json.loads(post("c2", likes=given)), "forum")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"), ("EN-us", "en"), ("", None)],
)
def test_a_language_tag_is_stored_by_its_primary_subtag(given: str, stored: str | None) -> None:
    assert parse_post(json.loads(post("l1", lang=given)), "forum").lang == stored


@pytest.mark.parametrize("given", ["中文", "zh\u202e", "x" * 5000, "zh-CN-Hans-x-private-more"])
def test_free_text_for_a_language_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="a language tag such as zh"):
        parse_post(json.loads(post("l2", lang=given)), "forum")


@pytest.mark.parametrize(("raw", "kind"), [(None, "null"), ("x", "a string"), (3, "a number")])
def test_a_line_that_is_no_object_is_named_in_jsons_words(raw: object, kind: str) -> None:
    with pytest.raises(ValueError, match=f"got {kind}$"):
        parse_post(raw, "forum")


def test_a_json_array_file_is_refused_with_how_to_make_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "wechat_export.json"
    path.write_text("[\n  " + post("a1") + ",\n  " + post("a2") + "\n]\n", encoding="utf-8")
    with pytest.raises(UnsupportedFile, match=r"JSON array.*jq -c '\.\[\]' wechat_export\.json"):
        list(read_records(path))
    lines = tmp_path / "lines.json"  # JSON Lines under another name
    lines.write_text(post("a3") + "\n", encoding="utf-8")
    with pytest.raises(UnsupportedFile, match=r"name it lines\.jsonl"):
        list(read_records(lines))
    # A header whose names are bracketed, as some databases export them, is still a header.
    bracketed = tmp_path / "bracketed.csv"
    bracketed.write_text("[id],[name]\n1,a\n", encoding="utf-8")
    assert [r.data for r in read_records(bracketed)] == [{"[id]": "1", "[name]": "a"}]


async def test_a_folder_given_for_the_export_is_named_as_such(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await invoke(["ingest", "posts", str(tmp_path), "--platform", "forum"], cli_env)
    assert result.exit_code == 2
    assert "is not a file; give the path of a .jsonl export" in " ".join(result.output.split())


async def test_a_nested_field_is_read_by_its_dotted_path_and_the_rest_is_listed(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # Weibo's API nests the author; counts it names otherwise land in no field.
    lines = [
        {"mid": f"wb{n}", "text": "招行客服很好", "created_at": AT,
         "user": {"screen_name": f"weibo_user{n}", "followers_count": 12},
         "attitudes_count": 3, "reposts_count": 1}
        for n in (1, 2)
    ]  # fmt: skip
    path = tmp_path / "weibo_nested.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    mapping = tmp_path / "weibo.toml"
    mapping.write_text(
        '[columns]\n"mid" = "id"\n"user.screen_name" = "author"\n'
        '"user.followers_count" = "author_followers"\n"comments" = "replies"\n',
        encoding="utf-8",
    )
    result = await invoke(
        ["ingest", "posts", str(path), "--platform", "weibo", "--mapping", str(mapping)], cli_env
    )
    assert result.exit_code == 0, result.output
    rows = summary_rows(result.output)
    assert rows["new posts"] == "2"
    assert rows["ignored fields"] == "attitudes_count, reposts_count"
    assert rows["mapped, not in the file"] == "comments"
    stored = await store.read(
        "MATCH (p:Post) WHERE p.postId IN ['wb1', 'wb2'] "
        "MATCH (p)<-[:POSTED]-(a:SocialAccount) RETURN p.postId AS id, a.handle AS handle "
        "ORDER BY id"
    )
    assert [(r["id"], r["handle"]) for r in stored] == [
        ("wb1", "weibo_user1"),
        ("wb2", "weibo_user2"),
    ]


@pytest.mark.parametrize(
    "written", ["2025-02-30T10:00:00Z", "2025-02-30 10:00", "2025-13-01 10:00"]
)
def test_an_impossible_day_is_called_so(written: str) -> None:
    # It is ISO-8601 in form; what is wrong is the day (QA: "not a time in ISO-8601").
    with pytest.raises(ValueError, match=f"no such day: {written[:10]}$"):
        parse_post(json.loads(post("d1", created_at=written)), "forum")
