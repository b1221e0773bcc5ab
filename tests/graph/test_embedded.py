"""The embedded FalkorDB process: ownership, sharing, crash recovery, persistence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graph.embedded import EmbeddedFalkorDB, cmdline_serves
from graph.errors import GraphUnavailable
from graph.falkordb import FalkorDBStore
from shared.scratch import alive


async def test_second_process_joins_instead_of_starting(short_dir: Path) -> None:
    first = EmbeddedFalkorDB(short_dir)
    first.ensure()
    second = EmbeddedFalkorDB(short_dir)
    second.ensure()
    try:
        assert first.owner and not second.owner
        pid = first.server_pid()
        assert pid is not None and pid == second.server_pid() and alive(pid)
    finally:
        second.stop()
        first.stop()
    assert not alive(pid)


def _owner_script(data_dir: Path) -> str:
    return textwrap.dedent(
        f"""
        import asyncio, sys, time
        from pathlib import Path
        from graph.embedded import EmbeddedFalkorDB
        from graph.falkordb import FalkorDBStore
        async def main():
            store = FalkorDBStore.embedded(EmbeddedFalkorDB(Path({str(data_dir)!r})))
            await store.write("MERGE (c:Customer {{id: 'K1'}}) SET c.name = '持久'")
            print("written", flush=True)
            await asyncio.sleep(600)
        asyncio.run(main())
        """
    )


async def test_sigkill_owner_then_restart_recovers_lock_and_data(short_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _owner_script(short_dir)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    deadline = time.monotonic() + 10
    store = None
    while store is None:
        # A fresh instance per try: a failed open stops the instance it used (on a busy
        # machine the killed owner's child can still hold the socket on the first try).
        embedded = EmbeddedFalkorDB(short_dir)
        try:
            store = FalkorDBStore.embedded(embedded)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        assert embedded.owner, "the stale lock of the killed owner was not taken over"
        rows = await store.read("MATCH (c:Customer {id: 'K1'}) RETURN c.name AS name")
        assert rows == [{"name": "持久"}]
    finally:
        await store.close()


def test_owner_restarts_a_dead_child_without_a_request(short_dir: Path) -> None:
    owner = EmbeddedFalkorDB(short_dir)
    owner.ensure()
    first = owner.server_pid()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # Another process's view: it never starts a server itself, it waits for the owner's.
    joined = EmbeddedFalkorDB(short_dir)
    try:
        joined.ensure(wait_s=30)
        assert not joined.owner
        second = owner.server_pid()
        assert second not in (None, first)
        assert joined.server_pid() == second
    finally:
        joined.stop()
        owner.stop()
    assert not alive(first)


def test_serves_socket_needs_this_exact_socket() -> None:
    sock = Path("/tmp/x y/falkordb/falkordb.sock")
    title = b"/bin/redis-server unixsocket:/tmp/x y/falkordb/falkordb.sock" + b"\0" * 8
    args = b"redis-server\0--unixsocket\0/tmp/x y/falkordb/falkordb.sock\0--dir\0/tmp"
    other = b"/bin/redis-server unixsocket:/a/tmp/x y/falkordb/falkordb.sock"
    longer = b"/bin/redis-server unixsocket:/tmp/x y/falkordb/falkordb.sock2"
    assert cmdline_serves(title, sock) and cmdline_serves(args, sock)
    assert not cmdline_serves(other, sock) and not cmdline_serves(longer, sock)


async def test_a_log_rewrite_past_its_deadline_is_an_error_not_a_hang(short_dir: Path) -> None:
    """The fold after a bulk load and a compaction wait for the server's log rewrite; one that
    does not finish in time (a disk that stays full makes the server retry it) must raise and
    say where to look, not leave the seed or import waiting for ever."""
    store = FalkorDBStore.embedded(EmbeddedFalkorDB(short_dir))
    try:
        await store.write("UNWIND range(1, 2000) AS i CREATE (:Customer {id: toString(i)})")
        await store.pause_log(True)
        with pytest.raises(GraphUnavailable, match="still running after the deadline"):
            # Turning the log back on forks the rewrite; a zero deadline has passed at once.
            await store.pause_log(False, timeout_s=0)
        await store.pause_log(False)  # the same fold, waited for: it finishes and is clean
        await store.write("MERGE (:Customer {id: 'after'})")
        await store.compact()  # the log holds a write beyond its base: a rewrite, waited for
        rows = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
        assert rows[0]["n"] == 2001
    finally:
        await store.close()
