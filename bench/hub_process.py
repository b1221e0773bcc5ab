"""A `c360 serve` child for the benches: one port picker, one start, one readiness wait, so
every bench measures a hub started the same way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free loopback port: from ``C360_BENCH_PORTS`` ("9100-9199") when set (a shared
    machine with port ranges per user), else any the kernel picks."""
    low, _, high = os.environ.get("C360_BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise SystemExit(f"no free port in C360_BENCH_PORTS={low}-{high}")


def start_hub(
    data_dir: Path,
    port: int,
    *args: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """`c360 serve` on 127.0.0.1:``port`` over the embedded graph in ``data_dir`` (extra
    ``args`` such as ``--demo`` or ``--workers N``), its output in ``log``."""
    environ = os.environ | {"C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""} | (env or {})
    command = [sys.executable, "-c", "from hub.cli import main; main()", "serve"]
    with (log or data_dir / "hub.log").open("wb") as out:
        return subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


def stop_hub(proc: subprocess.Popen[bytes] | None, timeout_s: float = 30) -> None:
    """SIGTERM (the hub stops its graph server cleanly), then SIGKILL after ``timeout_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wait_ready(
    client: httpx.AsyncClient, proc: subprocess.Popen[bytes], timeout_s: float = 300.0
) -> None:
    """Until /readyz answers 200 (seeding and the graph's start included)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the hub exited with code {proc.returncode}; see its log")
        # Refused while the hub starts: ask again.
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise SystemExit(f"the hub did not become ready within {timeout_s:.0f} s")


__all__ = ["ROOT", "free_port", "start_hub", "stop_hub", "wait_ready"]
