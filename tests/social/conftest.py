from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.store import GraphStore
from hub.cli import app
from ingest.checkpoint import Checkpoint
from ingest.social.files import ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer

TERMS = Path(__file__).parents[2] / "examples" / "social" / "terms.toml"


@pytest.fixture
def cli_env(session_data_dir: Path) -> Iterator[dict[str, str]]:
    """CLI environment sharing the session's graph (same data dir), fresh checkpoints."""
    shutil.rmtree(session_data_dir / "checkpoints", ignore_errors=True)
    yield {"C360_DATA_DIR": str(session_data_dir)}
    shutil.rmtree(session_data_dir / "checkpoints", ignore_errors=True)


async def invoke(args: list[str], env: dict[str, str]) -> Any:
    """Run `c360 ...` in a worker thread (it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env)


def summary_rows(output: str) -> dict[str, str]:
    """The rows of the `c360 ingest` summary table (label -> value) in a CLI output."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 4 and cells[1]:
            rows[cells[1]] = cells[2]
    return rows


class Stop(Exception):
    """Ends a run after its first stored batch, as a kill would."""


async def stopped_after_first_batch(
    store: GraphStore, path: Path, checkpoints: Path, platform: str = "weibo", batch_size: int = 10
) -> None:
    """Ingest ``path`` until its first batch of ``batch_size`` posts is stored, then stop as a
    kill would: the checkpoint (``checkpoints``, a posts.json) holds that batch's last line."""

    def stop(_n: int) -> None:
        raise Stop

    with BatchScorer(max_workers=1) as scorer, pytest.raises(Stop):
        pipeline = PostPipeline(store, scorer, TermMatcher.load(TERMS))
        await ingest_file(
            pipeline,
            path,
            Checkpoint(checkpoints),
            platform=platform,
            batch_size=batch_size,
            progress=stop,
        )
