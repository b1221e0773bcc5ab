"""`c360 import` as a real process: a SQL import killed mid-run resumes from its checkpoint, and
a dry run leaves the data dir exactly as it found it: no data dir made, nothing of one written,
not even the key store's one-time listing of the ledger's erasures (session 23)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.connect import store_session
from privacy.erasure_ledger import Erased, ErasureLedger

C360 = str(Path(sys.executable).with_name("c360"))
ROWS = 20_000
SQL = (
    "SELECT 'K' || lpad(CAST(i AS VARCHAR), 6, '0') AS id, 'KA' || CAST(i % 50 AS VARCHAR) "
    "AS accountId, (i % 997) + 0.5 AS amount, 'CNY' AS currency, "
    "TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i) AS time, "
    "CASE i % 2 WHEN 0 THEN 'DEPOSIT' ELSE 'FEE' END AS kind "
    "FROM read_csv('{file}', header = true)"
)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360p-", dir="/tmp"))  # short: FalkorDB's unix socket
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _c360(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    return subprocess.run([C360, "import", *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def committed(checkpoints: Path) -> int:
    """The most records an import in ``checkpoints`` has committed (0: none yet)."""
    try:
        data = json.loads(checkpoints.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0
    return max((int(v.get("committed", 0)) for v in data.values()), default=0)


async def _transactions(data_dir: Path) -> tuple[int, int, int]:
    async with store_session(data_dir) as store:
        (row,) = await store.read(
            "MATCH (t:Transaction) RETURN count(t) AS n, count(DISTINCT t.id) AS ids"
        )
        (rels,) = await store.read("MATCH (:Account)-[r:HAS_TRANSACTION]->() RETURN count(r) AS n")
    return row["n"], row["ids"], rels["n"]


def test_sql_import_killed_mid_run_resumes_from_its_checkpoint(workdir: Path) -> None:
    numbers = workdir / "numbers.csv"
    numbers.write_text("i\n" + "".join(f"{i}\n" for i in range(ROWS)), encoding="utf-8")
    accounts = workdir / "accounts.csv"
    accounts.write_text("id,type\n" + "".join(f"KA{i},SAVINGS\n" for i in range(50)))
    assert _c360(workdir, "accounts", str(accounts), "--no-progress").returncode == 0
    args = ["transactions", str(numbers), "--sql", SQL, "--batch-size", "100", "--no-progress"]

    env = {**os.environ, "C360_DATA_DIR": str(workdir / "d")}
    log = workdir / "killed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([C360, "import", *args, "--json"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    checkpoints = workdir / "d" / "checkpoints" / "imports.json"
    deadline = time.monotonic() + 300
    while committed(checkpoints) < 1000 and proc.poll() is None:
        assert time.monotonic() < deadline, "the import never committed a batch"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    killed_at = committed(checkpoints)
    assert 0 < killed_at < ROWS

    done = _c360(workdir, *args, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # Resumed after what the checkpoint held (a batch the kill caught between its write and its
    # checkpoint is found in the graph again, so it counts as unchanged, not as a duplicate).
    assert summary["resumed_after"] == killed_at
    assert (summary["read"], summary["imported"], summary["rejected"]) == (ROWS, ROWS, 0)
    assert summary["inserted"] <= ROWS - killed_at
    assert committed(checkpoints) == 0  # cleared once everything went in
    assert asyncio.run(_transactions(workdir / "d")) == (ROWS, ROWS, ROWS)


def _snapshot(data_dir: Path) -> dict[str, str]:
    """Every file of the data dir and its digest (the graph server's own log aside)."""
    return {
        str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and p.suffix != ".log"
    }


def test_dry_run_writes_nothing_at_all(workdir: Path) -> None:
    customers = workdir / "customers.csv"
    customers.write_text(
        "id,name,gender,phone\nD1,王伟,M,13812345678\nD2,李娜,F,13912345678\n", encoding="utf-8"
    )
    assert _c360(workdir, "customers", str(customers), "--no-progress").returncode == 0
    changed = workdir / "changed.csv"
    changed.write_text(
        "id,name,gender,phone\nD1,王伟伟,M,13812345678\nD3,赵强,M,13712345678\nD4,钱,X,123\n",
        encoding="utf-8",
    )
    before = _snapshot(workdir / "d")
    files = sorted(p.name for p in workdir.iterdir())

    dry = _c360(workdir, "customers", str(changed), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert (summary["inserted"], summary["updated"], summary["rejected"]) == (1, 1, 1)
    assert summary["dead_letter_path"] is None
    assert summary["rejected_first"][0].startswith("line 4: ")
    assert _snapshot(workdir / "d") == before  # graph files, checkpoints, keys: untouched
    assert sorted(p.name for p in workdir.iterdir()) == files  # no changed.dead.jsonl

    real = _c360(workdir, "customers", str(changed), "--json")
    assert json.loads(real.stdout)["inserted"] == 1  # the dry run had written nothing
    assert (workdir / "changed.dead.jsonl").exists()


def _files(data_dir: Path) -> dict[str, tuple[str, int]]:
    """Every file and directory under the data dir: its digest (files) and its mtime. Not
    the graph server's directories (its socket and pid file come and go with it) nor its
    log."""
    return {
        str(p.relative_to(data_dir)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
            p.stat().st_mtime_ns,
        )
        for p in sorted(data_dir.rglob("*"))
        if p.suffix != ".log"
        and not (p.is_dir() and p.relative_to(data_dir).parts[0] == "falkordb")
    }


# Rewritten by the graph server itself (a new file renamed over it) at each start and stop,
# same bytes: a dry run that starts the server (no hub running on the data dir) renews it.
MANIFEST = "falkordb/appendonlydir/appendonly.aof.manifest"


def test_a_dry_run_on_a_fresh_data_dir_makes_no_data_dir(workdir: Path) -> None:
    """Session 23: it made the data dir, its format marker, the graph server's files and the
    key store (with its one-time erasure listing). It now compares with an empty graph in a
    throwaway dir."""
    customers = workdir / "customers.csv"
    customers.write_text("id,name\nF1,王伟\nF2,李娜\nF2,李娜娜\n", encoding="utf-8")
    dry = _c360(workdir, "customers", str(customers), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert (summary["inserted"], summary["duplicates"], summary["dry_run"]) == (2, 1, True)
    assert not (workdir / "d").exists()
    (workdir / "d").mkdir()  # an empty data dir (made by hand, or by a deploy) stays empty
    before = (workdir / "d").stat().st_mtime_ns
    assert _c360(workdir, "customers", str(customers), "--dry-run").returncode == 0
    assert list((workdir / "d").iterdir()) == []
    assert (workdir / "d").stat().st_mtime_ns == before


def test_a_dry_run_does_not_list_the_ledgers_erasures_in_the_key_store(workdir: Path) -> None:
    """A data dir whose key store has not listed the ledger's erasures yet (one from before
    session 22): a dry run left the listing written. Files and their mtimes are now as
    they were; the next import that writes lists them."""
    data_dir = workdir / "d"
    customers = workdir / "customers.csv"
    customers.write_text("id,name\nE1,王伟\n", encoding="utf-8")
    assert _c360(workdir, "customers", str(customers), "--no-progress").returncode == 0
    ErasureLedger(data_dir).record(Erased.of("GONE1", [], "req-1", []))
    keys = sqlite3.connect(data_dir / "keys" / "datakeys.sqlite")
    with keys:
        keys.execute("DELETE FROM marks")
        keys.execute("DELETE FROM destroyed")
    keys.close()
    changed = workdir / "changed.csv"
    changed.write_text("id,name\nE1,王伟伟\nE2,李娜\n", encoding="utf-8")
    before = _files(data_dir)

    dry = _c360(workdir, "customers", str(changed), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert (json.loads(dry.stdout)["inserted"], json.loads(dry.stdout)["updated"]) == (1, 1)
    after = _files(data_dir)
    assert after.pop(MANIFEST)[0] == before.pop(MANIFEST)[0]
    assert after == before  # the key store above all: bytes and mtime

    assert _c360(workdir, "customers", str(changed), "--no-progress").returncode == 0
    keys = sqlite3.connect(data_dir / "keys" / "datakeys.sqlite")
    assert keys.execute("SELECT count(*) FROM destroyed").fetchone() == (1,)  # GONE1's
    keys.close()
