"""`c360 serve --workers 2`: two processes on one port and data dir run one graph server,
verify the same tokens and append to one audit chain."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from graph.connect import open_store
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.faults.graph_support import REPO, Hub, redis_servers, upsert, writer_token
from tests.live import free_port

WRITES = 24
# Connections opened at once; all on one worker by the kernel's hash: a 2**-15 chance.
BURST = 16


def _children(pid: int) -> list[int]:
    out = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        out.append(int(child))
        out.extend(_children(int(child)))
    return out


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    return inodes


async def _burst_held_by_worker(pid: int, port: int, n: int) -> dict[int, int]:
    """Open ``n`` keep-alive connections at once, answer a request on each, and count how
    many each process under ``pid`` holds."""
    opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(n)))
    try:
        request = b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
        for _, writer in opened:
            writer.write(request)
        for reader, _ in opened:
            assert b" 200 " in await reader.readline()
        ours = _established_inodes(port)
        held: dict[int, int] = {}
        for child in _children(pid):
            with contextlib.suppress(OSError):
                links = [os.readlink(fd) for fd in Path(f"/proc/{child}/fd").iterdir()]
                count = sum(1 for link in links if link[8:-1] in ours and link[:8] == "socket:[")
                if count:
                    held[child] = count
        return held
    finally:
        for _, writer in opened:
            writer.close()


async def test_two_workers_share_graph_tokens_and_audit_chain(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    data_dir.mkdir()
    token = writer_token(data_dir)
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""}
    c360 = str(Path(sys.executable).parent / "c360")
    port = free_port()  # a fixed port failed whenever another hub on the machine held it
    with (short_dir / "hub.log").open("ab") as log:
        proc = subprocess.Popen(
            [c360, "serve", "--port", str(port), "--workers", "2"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(data_dir, port, proc)
    try:
        hub.wait_ready()
        results = []
        for i in range(WRITES):
            # A new connection per write: the kernel hands them to either worker.
            with httpx.Client() as client:
                results.append(upsert(client, hub.url, token, f"w-{i}"))
        assert results == ["ok"] * WRITES
        assert len(redis_servers(data_dir / "falkordb" / "falkordb.sock")) == 1
        # A burst of keep-alive connections is spread over both workers (one listening socket
        # each, hub/cli/reuse_port.py): with one shared socket, one worker could take them all.
        held = await _burst_held_by_worker(proc.pid, port, BURST)
        assert sum(held.values()) == BURST and len(held) == 2, held
        assert min(held.values()) >= 1, held
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    store = await open_store(data_dir)
    try:
        rows = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
        assert rows[0]["n"] == WRITES
    finally:
        await store.close()
    started = (short_dir / "hub.log").read_text().count("Started server process")
    assert started == 2, "two worker processes served"
    result = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).verify()
    assert result.ok, result.reason
    assert result.count >= WRITES
