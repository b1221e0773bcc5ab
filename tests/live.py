"""Helpers for tests that run a real `c360 serve` process or fill a real disk: one free-port
picker, one readiness wait, one stop, one disk filler for every suite that needs them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

# One stop for a hub child, shared with the benches: SIGTERM, then SIGKILL.
from bench.hub_process import stop_hub as stop


def free_port() -> int:
    """A local TCP port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def uvicorn_in_loop(
    app: Any, port: int, start_s: float = 120.0, **options: Any
) -> AsyncIterator[str]:
    """``app`` under uvicorn (websockets implementation, lifespan on; ``options``: more
    ``uvicorn.Config`` options, e.g. ``ssl_certfile``) in this event loop, on
    127.0.0.1:``port``; yields the host:port. The start (the app's lifespan: graph, policy
    engine, sentiment model) gets ``start_s``: 10 s was too little with the machine loaded."""
    # A websocket a test left open must not hold the shutdown (uvicorn waits for connections).
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=5, **({"ws": "websockets-sansio"} | options),
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    began = time.monotonic()
    while not server.started and not task.done() and time.monotonic() - began < start_s:
        await asyncio.sleep(0.05)
    if not server.started:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        raise AssertionError(f"uvicorn did not start within {start_s:.0f} s")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


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


@contextlib.contextmanager
def read_only_view(directory: Path, mount_point: Path) -> Iterator[Path]:
    """``directory`` seen through a read-only bind mount at ``mount_point`` (a forensic copy
    on read-only media: even root cannot write there). Skips the test without mount rights."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    mount_point.mkdir()
    bound = subprocess.run(
        ["mount", "--bind", str(directory), str(mount_point)], capture_output=True, text=True
    )
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.strip()}")
    try:
        subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(mount_point)], check=True, capture_output=True
        )
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


__all__ = ["fill_disk", "free_port", "read_only_view", "stop", "wait_ready"]


@contextlib.contextmanager
def unwritable_audit(data: Path) -> Iterator[None]:
    """The data dir's audit log cannot take a record (its file links into a directory that
    does not exist: no record can be created, root or not) and reads as empty. A running hub
    opens the log for each batch: it finds it so from its next append."""
    audit, aside = data / "audit", data / "audit.aside"
    audit.rename(aside)
    audit.mkdir()
    (audit / "audit.log").symlink_to(data.parent / "no-such-dir" / "audit.log")
    try:
        yield
    finally:
        shutil.rmtree(audit)
        aside.rename(audit)
