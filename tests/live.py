"""Helpers for tests that run a real `c360 serve` process or fill a real disk: one free-port
picker, one readiness wait, one stop, one disk filler for every suite that needs them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

# One stop for a hub child, shared with the benches: SIGTERM, then SIGKILL.
from bench.hub_process import stop_hub as stop


def free_port() -> int:
    """A local TCP port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    url: str,
    process: subprocess.Popen[bytes],
    timeout_s: float = 120.0,
    log_tail: Callable[[], str] = lambda: "",
    poll_s: float = 0.2,
) -> float:
    """Seconds until ``url``/readyz answers 200; fails with the log's tail if the process
    exits or the time runs out."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if process.poll() is not None:
            raise AssertionError(f"c360 serve exited:\n{log_tail()}")
        # Refused or timed out while the hub starts: ask again.
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return time.monotonic() - began
        time.sleep(poll_s)
    raise AssertionError(f"c360 serve not ready within {timeout_s:.0f}s:\n{log_tail()}")


def fill_disk(directory: Path) -> Path:
    """Take every free byte of the file system under ``directory`` with one file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):  # ENOSPC: full
            while os.write(fd, b"\0" * 65536) > 0:
                continue
    finally:
        os.close(fd)
    return filler


__all__ = ["fill_disk", "free_port", "stop", "wait_ready"]
