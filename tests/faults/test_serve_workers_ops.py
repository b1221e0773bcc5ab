"""`c360 serve --workers 2` operated like a single process: its workers log the same JSON
lines (request log included), stop when their supervisor is killed, and a port still held
is named with its holder."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.faults.graph_support import REPO, Hub
from tests.live import free_port

REQUESTS = 30
# A value a client sends: it must never reach the log.
MARKER = "Zebulon-4471-secret"
C360 = str(Path(sys.executable).parent / "c360")
# How long the workers of a killed supervisor get to go (they go at once; this only bounds
# the wait of a failing test).
GONE_WITHIN_S = 60.0


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""}


def _start(short_dir: Path, port: int, name: str) -> subprocess.Popen[bytes]:
    (short_dir / "data").mkdir(exist_ok=True)
    with (
        (short_dir / f"{name}.out").open("ab") as out,
        (short_dir / f"{name}.err").open("ab") as err,
    ):
        return subprocess.Popen(
            [C360, "serve", "--port", str(port), "--workers", "2"],
            cwd=REPO,
            env=_env(short_dir / "data"),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out.append(int(child))
            out.extend(_descendants(int(child)))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _stop(proc: subprocess.Popen[bytes], others: list[int]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for pid in others:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_workers_write_the_request_log_as_json_without_values(short_dir: Path) -> None:
    port = free_port()
    proc = _start(short_dir, port, "hub")
    try:
        Hub(short_dir / "data", port, proc).wait_ready()
        with httpx.Client() as client:
            for i in range(REQUESTS):
                # An unclosed string: a GraphQL syntax error quoting the client's text.
                query = f'{{ customer(id: "{MARKER}-{i}) {{ id }} }}'
                response = client.post(f"http://127.0.0.1:{port}/graphql", json={"query": query})
                assert response.status_code in (200, 400, 401), response.text
    finally:
        _stop(proc, [])
    log = (short_dir / "hub.err").read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line one JSON object
    requests = [e for e in entries if e["logger"] == "c360.request"]
    assert len(requests) >= REQUESTS, log[-2000:]
    assert sum(1 for e in entries if e.get("msg", "").startswith("Started server process")) == 2
    assert MARKER not in log


def test_workers_stop_when_their_supervisor_is_killed(short_dir: Path) -> None:
    port = free_port()
    proc = _start(short_dir, port, "hub")
    workers: list[int] = []
    try:
        Hub(short_dir / "data", port, proc).wait_ready()
        workers = _descendants(proc.pid)
        assert workers
        # A second hub on the port: one line naming the processes that hold it.
        second = subprocess.run(
            [C360, "serve", "--port", str(port)],
            cwd=REPO,
            env=_env(short_dir / "data"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2, second.stderr
        assert "address already in use" in second.stderr.lower(), second.stderr
        held = [pid for pid in workers if f"{pid} (" in second.stderr]
        assert held, second.stderr
        assert "Traceback" not in second.stderr
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + GONE_WITHIN_S
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in workers if _alive(pid)]
        assert not left, f"workers still running after their supervisor died: {left}"
        # The port and the data dir are free again: a new hub starts and serves.
        restarted = _start(short_dir, port, "restarted")
        try:
            Hub(short_dir / "data", port, restarted).wait_ready()
        finally:
            _stop(restarted, [])
    finally:
        _stop(proc, workers)
