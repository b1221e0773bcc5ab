"""Slow clients cannot exhaust the hub's file descriptors (attacker findings, item 4).

A real `c360 serve` whose open-file limit is 256 (soft and hard, so it cannot raise it),
and 300 sockets that each send half a request header and then nothing: before, every one held a
descriptor for ever, the process ran out (EMFILE) and /healthz stopped answering. Now a
connection has C360_HEADER_TIMEOUT_S to send its headers, and connections beyond the cap
(derived from the fd limit) take the place of the slowest to send headers, or are closed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.http_protocol import connection_cap
from tests.live import free_port, stop, wait_ready

FD_LIMIT = 256
SLOW = 300
HEADER_TIMEOUT_S = 6.0


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture
def small_hub() -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    with tempfile.TemporaryDirectory(prefix="c360f-", dir="/tmp") as d:
        data_dir, log_path, port = Path(d) / "data", Path(d) / "server.log", free_port()
        env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": "",
               "C360_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)}  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_limit_fds,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                wait_ready(url, process, 120.0, log_tail=lambda: log_path.read_text()[-3000:])
                yield url, process, log_path
            finally:
                stop(process)


def _half_header(port: int) -> socket.socket | None:
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    except OSError:
        s.close()
        return None
    return s


def _closed_by_server(s: socket.socket) -> bool:
    s.settimeout(0.01)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _healthz(url: str) -> int | None:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/healthz", timeout=2).status_code
    return None


def test_half_sent_headers_do_not_exhaust_descriptors(
    small_hub: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, process, log_path = small_hub
    port = int(url.rsplit(":", 1)[1])
    sockets = [s for s in (_half_header(port) for _ in range(SLOW)) if s is not None]
    try:
        # The hub's descriptors stay below its limit while the slow sockets are open...
        fds = len(os.listdir(f"/proc/{process.pid}/fd"))
        assert fds < FD_LIMIT - 20, fds
        # ...it answers /healthz at once, while they are still within their header time (a new
        # connection at the cap takes the place of the slowest)...
        began, status = time.monotonic(), _healthz(url)
        while status != 200 and time.monotonic() - began < 2.0:  # well within their time
            status = _healthz(url)
        assert status == 200, "/healthz did not answer while slow clients held the cap"
        # ...and every slow socket has been closed by the hub.
        deadline = time.monotonic() + 10 * HEADER_TIMEOUT_S
        while time.monotonic() < deadline and not all(_closed_by_server(s) for s in sockets):
            time.sleep(0.2)
        assert all(_closed_by_server(s) for s in sockets)
    finally:
        for s in sockets:
            s.close()
    assert process.poll() is None
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Too many open files" not in log and "EMFILE" not in log
    assert "no complete request headers" in log


def test_the_cap_is_well_below_the_fd_limit() -> None:
    assert connection_cap(1024) == 768
    assert connection_cap(256) == 128
    assert connection_cap(65_536) == 49_152
    assert connection_cap(1024, configured=50) == 50
