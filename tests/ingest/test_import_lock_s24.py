"""Two runs of the same import at once (QA, session 24: a cron job and a person): the second
is refused at once, one sentence, exit 2, nothing written; the first counts exactly what it
inserted (before: A inserted 39 187, B 195 983, for 195 983 nodes, one checkpoint entry and one
dead-letter file between them)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from ingest.runlock import ImportRunning, import_lock, lock_path
from ingest.summary import ImportRefused
from tests.ingest.test_import_process import C360, committed

ROWS = 60_000


def _env(short_dir: Path) -> dict[str, str]:
    return {**os.environ, "C360_DATA_DIR": str(short_dir / "d"), "COLUMNS": "200"}


def test_a_second_run_of_a_running_import_is_refused(short_dir: Path) -> None:
    path = short_dir / "customers.csv"
    path.write_text("id,name\n" + "".join(f"L{i:06d},name{i}\n" for i in range(ROWS)))
    # A row with no id: the first run's dead letter, which the second must not touch.
    with path.open("a") as fh:
        fh.write(",nobody\n")
    env = _env(short_dir)
    args = [C360, "import", "customers", str(path), "--batch-size", "100", "--no-progress"]
    first = subprocess.Popen([*args, "--json"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    checkpoints = short_dir / "d" / "checkpoints" / "imports.json"
    try:
        deadline = time.monotonic() + 120
        while committed(checkpoints) < 200:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the import never committed a batch"
            time.sleep(0.01)
        started = time.monotonic()
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        still_running = first.poll() is None
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    said = " ".join((second.stdout + second.stderr).split())
    assert still_running, "the first import ended before the second was refused: use more rows"
    assert second.returncode == 2, (second.returncode, said)
    assert "Traceback" not in said, said
    assert f"another import of customers.csv is running (pid {first.pid}, started " in said, said
    assert "; wait for it to finish or stop it" in said, said
    assert "inserted" not in said, said  # no summary: it imported nothing
    assert time.monotonic() - started < 60

    assert first.returncode == 0, (out, err)
    summary = json.loads(out)
    assert summary["inserted"] == ROWS, summary
    assert summary["rejected"] == 1, summary
    dead = path.with_name("customers.dead.jsonl")
    assert len(dead.read_text().splitlines()) == 1
    assert json.loads(checkpoints.read_text()) == {}  # the first's entry, cleared when done

    # Once the first is done (or killed: the kernel drops its lock) the same import runs.
    again = subprocess.run([*args, "--json"], env=env, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0, (again.stdout, again.stderr)
    summary = json.loads(again.stdout)
    assert (summary["inserted"], summary["unchanged"]) == (0, ROWS), summary


def test_the_lock_is_per_input(tmp_path: Path) -> None:
    """Held (as a running import holds it), the same key is refused at once with the owner's
    pid; another key (another input) is not; released, the key is free again."""
    folder = tmp_path / "checkpoints"
    key = "customers:/x/customers.csv:10:1"
    other = "orders:/x/orders.csv:10:1"
    with import_lock(folder, key, "customers.csv"):
        assert json.loads(lock_path(folder, key).read_text())["pid"] == os.getpid()
        with pytest.raises(ImportRunning) as refused, import_lock(folder, key, "customers.csv"):
            raise AssertionError("the same key was taken twice")
        assert isinstance(refused.value, ImportRefused)  # the CLI's one sentence, exit 2
        assert str(refused.value).startswith(
            f"another import of customers.csv is running (pid {os.getpid()}, started "
        )
        with import_lock(folder, other, "orders.csv"):
            assert json.loads(lock_path(folder, other).read_text())["pid"] == os.getpid()
    assert lock_path(folder, key).parent == folder
    with import_lock(folder, key, "customers.csv"):
        assert json.loads(lock_path(folder, key).read_text())["pid"] == os.getpid()
