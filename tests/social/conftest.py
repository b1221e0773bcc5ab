from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app


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
