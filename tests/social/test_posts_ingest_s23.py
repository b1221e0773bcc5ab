"""QA round 23 on `c360 ingest posts`: another file written to the path of an interrupted run
starts from line 1 with fresh dead letters (the checkpoint is keyed by path, size and mtime, as
a CRM import's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import checkpoint_key, ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from tests.social.conftest import invoke, summary_rows

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"
WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"


def post(pid: str, text: str = "招行客服很好", **extra: object) -> str:
    return json.dumps({"id": pid, "text": text, "created_at": AT, **extra}, ensure_ascii=False)


def dead_letters(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


async def stored_ids(store: GraphStore) -> list[str]:
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id")
    return sorted(r["id"] for r in rows)


class Stop(Exception):
    """Ends the first run after its first stored batch, as a kill would."""


async def test_a_new_file_at_an_interrupted_runs_path_starts_from_line_one(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "export2.jsonl"
    old = ["{oops" if n in (3, 8) else post(f"old{n}") for n in range(1, 41)]
    path.write_text("\n".join(old) + "\n", encoding="utf-8")
    checkpoints = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "posts.json"

    def stop(_n: int) -> None:
        raise Stop

    with BatchScorer(max_workers=1) as scorer, pytest.raises(Stop):
        pipeline = PostPipeline(store, scorer, TermMatcher.load(EXAMPLES / "terms.toml"))
        await ingest_file(
            pipeline, path, Checkpoint(checkpoints), platform="weibo", batch_size=10, progress=stop
        )
    assert Checkpoint(checkpoints).get(checkpoint_key(path)) == 12
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
