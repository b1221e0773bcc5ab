"""A `c360 backup` or `c360 restore` killed with SIGKILL in the middle leaves no graph server
running, no plaintext beside the archive or the target (its staging sits in a 0700 dir inside
the data dir), and the next backup or restore removes what it left.

Each run is driven to a known step for real: the test waits until the process has started
its private graph server (the snapshot's counts, or the restore's rebuild), freezes that
server (SIGSTOP, so the step cannot finish meanwhile), kills the process, then lets the
server run on (SIGCONT): it must be gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph.connect import open_store
from privacy.keyring import KeyRing
from tests.faults.graph_support import redis_servers

PASSPHRASE = "correct horse battery staple"
C360 = str(Path(sys.executable).parent / "c360")
REPO = Path(__file__).resolve().parents[2]
ATTEMPTS = 5  # a private server missed (it came and went between two looks): run again
_SOCK = re.compile(rb"(/[^\0 :]+\.sock)")

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("C360_TEST_GRAPH_URL")), reason="backs up the embedded graph"
)


@pytest.fixture
async def data_dir(short_dir: Path) -> Path:
    data = short_dir / "d"
    data.mkdir(mode=0o700)
    KeyRing.load(data)
    store = await open_store(data, "")
    try:
        await store.write("UNWIND range(1, 200) AS n CREATE (:Customer {id: 'k-' + toString(n)})")
    finally:
        await store.close()
    return data


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "C360_DATA_DIR": str(data_dir),
        "C360_GRAPH_URL": "",
        "C360_BACKUP_PASSPHRASE": PASSPHRASE,
    }


def _c360(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [C360, *args],
        cwd=REPO,
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _private_server(parent: int) -> tuple[int, Path] | None:
    """The running private graph server (pid, socket) that ``parent`` started, if any."""
    for task in Path(f"/proc/{parent}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            found = _SOCK.search(cmdline)
            # Not the data dir's own server (falkordb.sock), which `c360 backup` joins.
            if found and b"redis-server" in cmdline and not found[1].endswith(b"falkordb.sock"):
                return int(pid), Path(found[1].decode())
    return None


def _kill_while_private_server_runs(data_dir: Path, output: Path, *args: str) -> Path:
    """Run ``c360 *args`` until it has started its private graph server, freeze that server,
    SIGKILL the command, let the server go on; returns the server's socket. ``output``: what
    a run that finished before it was caught wrote (removed before the next attempt)."""
    for _ in range(ATTEMPTS):
        proc = _c360(data_dir, *args)
        server = None
        while server is None and proc.poll() is None:
            server = _private_server(proc.pid)
        if server is None:  # finished (or failed) before we saw its server
            out = proc.communicate()[0].decode(errors="replace")
            assert proc.returncode == 0, out
            shutil.rmtree(output) if output.is_dir() else output.unlink()
            continue
        pid, sock = server
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:  # it had just stopped: not the step we want
            proc.kill()
            proc.communicate()
            continue
        proc.kill()
        proc.communicate()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
        return sock
    pytest.fail(f"never caught `c360 {' '.join(args)}` with its private graph server running")


def _assert_no_server(sock: Path) -> None:
    """No process serves ``sock`` once its parent is dead (a killed one may take a moment to
    vanish from /proc; an orphan keeps running, and is stopped here after the check)."""
    deadline = time.monotonic() + 10
    while redis_servers(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = redis_servers(sock)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == [], f"the private graph server on {sock} outlived the killed command"


def _stages(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "tmp").glob("c360-stage-*"))


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _finish(data_dir: Path, *args: str) -> str:
    proc = _c360(data_dir, *args)
    out = proc.communicate(timeout=600)[0].decode(errors="replace")
    assert proc.returncode == 0, out
    return out


def test_a_killed_backup_leaves_no_server_nor_plaintext_and_the_next_backup_cleans_up(
    data_dir: Path, short_dir: Path
) -> None:
    bk = short_dir / "bk"
    bk.mkdir()
    b1 = bk / "b1.c360bak"
    sock = _kill_while_private_server_runs(data_dir, b1, "backup", "--to", str(b1))
    _assert_no_server(sock)
    assert sock.is_relative_to(data_dir / "tmp")  # its socket and log go with the stage

    # Beside the archive: only the (encrypted, here still empty) partial archive.
    assert sorted(p.name for p in bk.iterdir()) == ["b1.c360bak.partial"]
    # The snapshot sits in a stage of its own, 0700, in the data dir's 0700 tmp/.
    [stage] = _stages(data_dir)
    assert _mode(data_dir / "tmp") == _mode(stage) == 0o700
    assert (stage / "dump.rdb").is_file()

    out = _finish(data_dir, "backup", "--to", str(bk / "b2.c360bak"))
    assert "removed the staging of a killed backup or restore" in out
    assert _stages(data_dir) == []
    assert sorted(p.name for p in bk.iterdir()) == ["b2.c360bak"]


def test_a_killed_restore_leaves_no_server_nor_plaintext_and_the_next_restore_cleans_up(
    data_dir: Path, short_dir: Path
) -> None:
    bk = short_dir / "bk"
    bk.mkdir()
    archive = bk / "b.c360bak"
    _finish(data_dir, "backup", "--to", str(archive))
    place = short_dir / "r"
    place.mkdir()
    target = place / "data"
    args = ("restore", str(archive), "--to", str(target))
    sock = _kill_while_private_server_runs(data_dir, target, *args)
    _assert_no_server(sock)
    assert sock.is_relative_to(target / "tmp")

    assert sorted(p.name for p in place.iterdir()) == ["data"]  # nothing beside the target
    assert sorted(p.name for p in target.iterdir()) == ["tmp"]
    [stage] = _stages(target)
    assert _mode(target) == _mode(target / "tmp") == _mode(stage) == 0o700
    assert (stage / "unpacked" / "files" / "keys").is_dir()  # what it had unpacked

    out = _finish(data_dir, "restore", str(archive), "--to", str(target))
    assert "restored" in out
    assert not (target / "tmp").exists()
    assert (target / "keys" / "audit-keyring.json").is_file()
    assert (target / "falkordb" / "appendonlydir").is_dir()
