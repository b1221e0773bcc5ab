"""QA defects on `c360 ingest posts` (the impread branch): a graph that goes away mid-run is an
interrupted ingest that says what is stored and that a re-run resumes (as a CRM import's),
not a hint at /readyz and environment variables; the summary names the platform stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from graph.embedded import EmbeddedFalkorDB
from graph.errors import GraphLoading, GraphUnavailable
from graph.falkordb import FalkorDBStore
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import checkpoint_key, ingest_file, interrupted
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from ingest.summary import ImportInterrupted, graph_cause
from sentiment.batch import BatchScorer
from tests.social.conftest import invoke

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"
AT = "2026-11-30T11:30:00Z"


def post(pid: str, text: str = "招行客服很好") -> str:
    return json.dumps({"id": pid, "text": text, "created_at": AT}, ensure_ascii=False)


async def test_a_graph_outage_mid_run_is_an_interrupted_ingest_that_resumes(
    short_dir: Path,
) -> None:
    path = short_dir / "posts.jsonl"
    path.write_text("\n".join(post(f"p{n}") for n in range(1, 41)) + "\n", encoding="utf-8")
    checkpoints = short_dir / "posts.json"
    embedded = EmbeddedFalkorDB(short_dir / "graph")
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    terms = TermMatcher.load(EXAMPLES / "terms.toml")
    batches = 0

    def stop_after_two(_n: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            embedded.stop()  # the graph server goes away, as one killed mid-run

    try:
        with BatchScorer(max_workers=1) as scorer, pytest.raises(ImportInterrupted) as info:
            await ingest_file(
                PostPipeline(store, scorer, terms),
                path,
                Checkpoint(checkpoints),
                platform="weibo",
                batch_size=10,
                progress=stop_after_two,
            )
    finally:
        await store.close()
    message = str(info.value)
    assert message.startswith(
        "ingesting posts.jsonl was interrupted after line 20: the posts up to it are stored "
        "(20 this run; "
    ), message
    assert message.endswith("run the same command again to resume after line 20"), message
    assert "readyz" not in message and "C360_" not in message
    assert isinstance(info.value.__cause__, GraphUnavailable)
    assert Checkpoint(checkpoints).get(checkpoint_key(path))["line"] == 20

    # The server back: the same command resumes after line 20.
    store = await asyncio.to_thread(FalkorDBStore.embedded, EmbeddedFalkorDB(short_dir / "graph"))
    try:
        with BatchScorer(max_workers=1) as scorer:
            result = await ingest_file(
                PostPipeline(store, scorer, terms),
                path,
                Checkpoint(checkpoints),
                platform="weibo",
                batch_size=10,
            )
        assert (result.resumed_from, result.totals.received) == (20, 20)
        assert await store.read("MATCH (p:Post) RETURN count(p) AS n") == [{"n": 40}]
    finally:
        await store.close()


async def test_the_summary_names_the_platform_the_posts_were_stored_under(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    mapping = tmp_path / "posts.toml"
    mapping.write_text('[defaults]\nplatform = "wechat"\n', encoding="utf-8")
    path = tmp_path / "wechat.jsonl"
    path.write_text("\n".join(post(f"wc{n}") for n in range(1, 4)) + "\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(path), "--mapping", str(mapping)], cli_env)
    assert result.exit_code == 0, result.output
    rows = await store.read(
        "MATCH (p:Post) WHERE p.postId STARTS WITH 'wc' RETURN DISTINCT p.platform AS platform"
    )
    assert rows == [{"platform": "wechat"}]
    assert "wechat.jsonl (wechat)" in result.output, result.output
    assert "(weibo)" not in result.output

    # A file of several platforms (a post's own field decides over the mapping's default):
    # each, with its count.
    mixed = tmp_path / "mixed.jsonl"
    own = json.dumps({"id": "fo1", "text": "招行", "created_at": AT, "platform": "forum"})
    mixed.write_text(f"{post('wc9')}\n{own}\n{post('wc8')}\n", encoding="utf-8")
    result = await invoke(["ingest", "posts", str(mixed), "--mapping", str(mapping)], cli_env)
    assert result.exit_code == 0, result.output
    assert "mixed.jsonl (forum 1, wechat 2)" in result.output, result.output


LOADING = GraphLoading(
    "the embedded graph in /d/falkordb is loading its data; /readyz turns 200 when it is done"
)


def test_a_graph_still_loading_is_said_without_the_servers_readyz_hint() -> None:
    # What `kill -9` of the embedded graph mid-run gives when its restart is still loading.
    assert graph_cause(LOADING) == "the graph restarted and is still loading its data"
    assert str(interrupted(Path("big.jsonl"), 12000, 12000, LOADING)) == (
        "ingesting big.jsonl was interrupted after line 12000: the posts up to it are stored "
        "(12000 this run; the graph restarted and is still loading its data); fix the cause "
        "and run the same command again to resume after line 12000"
    )
    assert str(interrupted(Path("big.jsonl"), 0, 0, LOADING)) == (
        "ingesting big.jsonl was interrupted before any post was stored (the graph restarted "
        "and is still loading its data); fix the cause and run the same command again"
    )
