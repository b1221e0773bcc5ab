"""`c360` commands leave owner-only files whatever umask they were started with (session 17 QA:
`seed` on a fresh data dir under umask 022 left the dir, the graph's snapshot with customer ids
and amounts, and demo-book.json readable by every local user; checkpoints were 0644; a dead
letter copied rows of an owner-only CSV into a 0644 file beside it).

The commands run as real processes (`c360` from the venv) with umask 022, as a shell would
start them; only `c360 serve` set umask 077 before."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.deadletter import DeadLetters
from tests.security.test_data_dir import loose

C360 = str(Path(sys.executable).with_name("c360"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOOSE_UMASK = 0o022


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360m-", dir="/tmp"))  # short: FalkorDB's unix socket
    os.chmod(path, 0o755)  # a folder of the user's, as `mkdir` under umask 022 makes it
    yield path
    shutil.rmtree(path, ignore_errors=True)


def c360(data: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [C360, *args],
        env={**os.environ, "C360_DATA_DIR": str(data), "COLUMNS": "200", **(env or {})},
        umask=LOOSE_UMASK,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_seed_on_a_fresh_data_dir_under_umask_022_is_owner_only(workdir: Path) -> None:
    data = workdir / "fresh"
    c360(data, "seed", "-n", "50")
    graph_files = [p for p in (data / "falkordb").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".base.rdb") for p in graph_files), graph_files
    assert (data / "demo-book.json").is_file()
    assert loose(data) == []


def test_a_command_tightens_what_an_older_version_left_readable(workdir: Path) -> None:
    data = workdir / "old"
    (data / "falkordb" / "appendonlydir").mkdir(parents=True)
    (data / "checkpoints").mkdir()
    left = [
        data / "falkordb" / "appendonlydir" / "appendonly.aof.1.base.rdb",
        data / "checkpoints" / "imports.json",
        data / "demo-book.json",
    ]
    for path in left:
        path.write_text("{}")
        os.chmod(path, 0o644)
    for folder in (data, data / "falkordb", data / "falkordb" / "appendonlydir"):
        os.chmod(folder, 0o755)
    os.chmod(data / "checkpoints", 0o755)
    # A command that never starts the graph: opening the data dir is enough.
    c360(data, "token", "--sub", "a", "--role", "privacy_officer", "--purpose", "compliance")
    assert loose(data) == []


def test_an_entry_that_cannot_be_tightened_stops_the_command(workdir: Path) -> None:
    # Fails closed: a data dir that cannot be made private is not used. An immutable file
    # stands for one owned by another user (the tests run as root, who may chmod those).
    data = workdir / "d"
    data.mkdir()
    stuck = data / "demo-book.json"
    stuck.write_text("{}")
    os.chmod(stuck, 0o644)
    if subprocess.run(["chattr", "+i", str(stuck)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        done = subprocess.run(
            [C360, "token", "--sub", "a", "--role", "privacy_officer", "--purpose", "compliance"],
            env={**os.environ, "C360_DATA_DIR": str(data), "COLUMNS": "300"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], check=True)
    said = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"the data dir {data} cannot be made owner-only" in said, said
    assert str(stuck) in said and "Traceback" not in said
    assert done.stdout == ""  # no token from a data dir left readable


def test_import_dead_letters_are_0600_under_umask_022(workdir: Path) -> None:
    source = workdir / "in"
    source.mkdir()
    secret = source / "secret.csv"
    secret.write_text(
        "id,name,idNumber,phone\nC1,张三,110101199003071234,13800001111\n"
        "C2,李四,110101199003075678,12345\n",
        encoding="utf-8",
    )
    os.chmod(secret, 0o600)
    data = workdir / "d"
    c360(data, "import", "customers", str(secret), "--no-progress")
    dead = source / "secret.dead.jsonl"
    assert "李四" in dead.read_text(encoding="utf-8")  # the raw row, with its phone
    assert mode(dead) == 0o600
    assert (data / "checkpoints" / "imports.json").is_file()
    assert loose(data) == []


def test_ingest_posts_dead_letters_are_0600_under_umask_022(workdir: Path) -> None:
    posts = workdir / "weibo.jsonl"
    shutil.copy(EXAMPLES / "social" / "posts.jsonl", posts)
    data = workdir / "d"
    out = c360(data, "ingest", "posts", str(posts), "--platform", "weibo")
    assert "2 line(s) rejected" in out, out
    assert mode(workdir / "weibo.dead.jsonl") == 0o600
    assert (data / "checkpoints" / "posts.json").is_file()
    assert loose(data) == []


def test_dead_letters_are_0600_for_a_library_caller_too(tmp_path: Path) -> None:
    # An earlier run (an older version) left a world-readable file there: it is replaced, not
    # truncated in place, so a reader who opened it then reads none of the new rows.
    path = tmp_path / "x.dead.jsonl"
    path.write_text("old\n")
    os.chmod(path, 0o644)
    with path.open("rb") as earlier_reader:
        old = os.umask(LOOSE_UMASK)
        try:
            with DeadLetters(path) as dead:
                dead.add(2, {"id": "C2", "phone": "12345"}, ["phone: not a phone number"])
        finally:
            os.umask(old)
        assert earlier_reader.read() == b"old\n"
    assert mode(path) == 0o600
    assert "12345" in path.read_text()


def test_the_embedded_graph_server_writes_owner_only_files_under_any_umask(
    workdir: Path,
) -> None:
    # A library caller (no `c360`, no hub) with umask 022 opens a store: the FalkorDB child
    # gets umask 077 all the same.
    data = workdir / "lib"
    data.mkdir(mode=0o700)
    script = (
        "import asyncio\n"
        "from pathlib import Path\n"
        "from graph.connect import store_session\n"
        "async def go():\n"
        f"    async with store_session(Path({str(data)!r})) as store:\n"
        "        await store.write(\"CREATE (:Customer {id: 'C1'})\")\n"
        "asyncio.run(go())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        umask=LOOSE_UMASK,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    aof = data / "falkordb" / "appendonlydir"
    assert any("manifest" in p.name for p in aof.iterdir()), list(aof.iterdir())
    assert loose(aof) == []  # the snapshot, the logs, the manifest and their dir
    assert mode(data / "falkordb" / "falkordb.log") == 0o600
    assert mode(data / "falkordb") == 0o700
