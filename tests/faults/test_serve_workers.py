"""`c360 serve --workers 2`: two processes on one port and data dir run one graph server,
verify the same tokens and append to one audit chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.connect import open_store
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.faults.graph_support import REPO, Hub, redis_servers, upsert, writer_token
from tests.live import free_port

WRITES = 24


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="c360w-", dir="/tmp") as d:
        yield Path(d)


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
