"""A CRM import re-run with other reading or writing options does not resume an interrupted
run's checkpoint: the committed rows were read the other way (QA: re-run with the right
--encoding, "resumed after 12000 records committed earlier", and those kept their mojibake).
Through `c360 import` (typer's CliRunner), its own short data dir."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from ingest.checkpoint import Checkpoint
from ingest.mapping import ColumnMapping
from ingest.sources import checkpoint_key, import_options

ROWS, COMMITTED = 30, 10
NAMES = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊"]


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360r-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _import(workdir: Path, *args: str) -> dict[str, object]:
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    done = CliRunner().invoke(app, ["import", "customers", *args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    summary: dict[str, object] = json.loads(done.output.strip().splitlines()[-1])
    return summary


def _interrupted(workdir: Path, path: Path, mapping: ColumnMapping, encoding: str | None) -> None:
    """The checkpoint a run with these options leaves when it stops after COMMITTED records
    (its rows are in the graph already: the first run imported them all)."""
    options = import_options(mapping, mapping.read_options(encoding), None,
                             create_missing=False, as_of=None)  # fmt: skip
    Checkpoint(workdir / "d" / "checkpoints" / "imports.json").set(
        checkpoint_key("customers", path),
        {"committed": COMMITTED, "line": COMMITTED + 1, "options": options},
    )


def _customers(path: Path, header: str = "id,name") -> None:
    lines = [header] + [f"R{i:03d},{NAMES[i % len(NAMES)]}{i}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_corrected_encoding_starts_over(workdir: Path) -> None:
    path = workdir / "customers.csv"
    _customers(path)
    wrong = _import(workdir, str(path), "--encoding", "latin-1", "--no-progress")
    assert wrong["inserted"] == ROWS  # every name stored as mojibake
    _interrupted(workdir, path, ColumnMapping.identity(), "latin-1")

    fixed = _import(workdir, str(path), "--encoding", "utf-8", "--no-progress")
    assert fixed["resumed_after"] == 0
    assert "--encoding" in str(fixed["not_resumed"]), fixed
    # Every name read again, as UTF-8: the committed ones too.
    assert (fixed["read"], fixed["updated"], fixed["unchanged"]) == (ROWS, ROWS, 0)


def test_the_same_options_resume_and_an_edited_mapping_starts_over(workdir: Path) -> None:
    path = workdir / "customers.csv"
    _customers(path, "id,nm")
    mapping = workdir / "map.toml"
    mapping.write_text('[columns]\nnm = "name"\n', encoding="utf-8")
    first = _import(workdir, str(path), "--mapping", str(mapping), "--no-progress")
    assert first["inserted"] == ROWS

    _interrupted(workdir, path, ColumnMapping.load(mapping), None)
    same = _import(workdir, str(path), "--mapping", str(mapping), "--no-progress")
    assert (same["resumed_after"], same["not_resumed"]) == (COMMITTED, "")

    _interrupted(workdir, path, ColumnMapping.load(mapping), None)
    # The same file, path and name, edited: another digest.
    # (Not a [defaults]: those fill new records only, session 26.)
    mapping.write_text('[columns]\nnm = "occupation"\n', encoding="utf-8")
    edited = _import(workdir, str(path), "--mapping", str(mapping), "--no-progress")
    assert edited["resumed_after"] == 0
    assert "--mapping" in str(edited["not_resumed"]), edited
    assert (edited["read"], edited["updated"]) == (ROWS, ROWS)


def test_a_checkpoint_without_options_starts_over(workdir: Path) -> None:
    """One an earlier version wrote: which options it read the rows with is unknown."""
    path = workdir / "customers.csv"
    _customers(path)
    _import(workdir, str(path), "--no-progress")
    Checkpoint(workdir / "d" / "checkpoints" / "imports.json").set(
        checkpoint_key("customers", path), {"committed": COMMITTED, "line": COMMITTED + 1}
    )
    again = _import(workdir, str(path), "--no-progress")
    assert again["resumed_after"] == 0
    assert "does not say which options" in str(again["not_resumed"]), again
