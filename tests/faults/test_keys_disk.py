"""A full disk under the data key store during `c360 import customers`: one sentence that says
what to do and exit 2 (not a traceback), and the same command resumes once space is freed."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import fill_disk

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data dir whose keys/ folder is a 1 MB tmpfs (the rest on the ordinary disk)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount to make a small tmpfs a full disk")
    with tempfile.TemporaryDirectory(prefix="c360kd-", dir="/tmp") as d:
        keys = Path(d) / "data" / "keys"
        keys.mkdir(parents=True, mode=0o700)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(keys)],
            capture_output=True,
            text=True,
        )
        if mounted.returncode != 0:
            pytest.skip(f"mount -t tmpfs failed: {mounted.stderr.strip()}")
        try:
            yield Path(d) / "data"
        finally:
            subprocess.run(["umount", "-l", str(keys)], check=False)


def _customers(path: Path, first: int, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "phone"])
        w.writerows([f"K{i}", f"客户{i}", f"1381234{i:04d}"] for i in range(first, first + count))
    return path


def _import(data_dir: Path, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "300"}
    env.pop("C360_GRAPH_URL", None)
    c360 = str(Path(sys.executable).parent / "c360")
    return subprocess.run(
        [c360, "import", "customers", str(path), "--no-progress"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_full_key_store_disk_is_one_sentence_exit_2_and_resumes(data_dir: Path) -> None:
    first = _import(data_dir, _customers(data_dir.parent / "a.csv", 0, 5))
    assert first.returncode == 0, first.stdout + first.stderr
    filler = fill_disk(data_dir / "keys")
    more = _customers(data_dir.parent / "b.csv", 100, 300)
    full = _import(data_dir, more)
    output = full.stdout + full.stderr
    assert full.returncode == 2, output
    assert "Traceback" not in output, output
    assert "cannot rollback" not in output, output
    words = " ".join(output.split())
    assert "datakeys.sqlite cannot be written (database or disk is full)" in words, output
    assert "free space" in words and "run the same command again" in words, output
    print(output)
    filler.unlink()
    again = _import(data_dir, more)
    assert again.returncode == 0, again.stdout + again.stderr
