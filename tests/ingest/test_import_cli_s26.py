"""QA session 26 on `c360 import` through typer's CliRunner: file names with rich markup, a full
disk, a resume whose dead letters were moved. Each test has its own short data dir."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360s26-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_file_name_with_brackets_is_shown_as_it_is(workdir: Path) -> None:
    path = workdir / "x[red]y.csv"
    path.write_text("id,phone\nU1,13812345678\nU2,not-a-phone\n", encoding="utf-8")
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    done = CliRunner().invoke(app, ["import", "customers", str(path), "--no-progress"], env=env)
    assert done.exit_code == 0, done.output
    assert (workdir / "x[red]y.dead.jsonl").exists()
    # The table's row and the closing line: "[red]" was taken for markup, "xy.dead.jsonl" shown.
    assert done.output.count("x[red]y.dead.jsonl") == 2, done.output
