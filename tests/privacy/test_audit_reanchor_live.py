"""`c360 audit reanchor` beside a running `c360 serve`: the hub's signer, paused by a cut log,
signs on from the fresh checkpoint and `auditChain` turns green, with no restart."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from hub.cli import app as cli
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.live import free_port, stop, wait_ready

CHAIN = "{ auditChain { verified records lastSeq problems } }"


def until(check: Callable[[], bool], what: str, log: Path, wait_s: float = 90.0) -> None:
    """Poll ``check`` (the hub signs every poll of 2 s); fail with the hub's log's tail."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > wait_s:
            raise AssertionError(f"{what}: not within {wait_s:.0f} s\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def sizes(data: Path) -> list[int]:
    path = data / "audit" / "checkpoints.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    return [json.loads(x)["size"] for x in lines if x.endswith("}")]


def cut_under_the_writers_lock(log: Path, keep: int) -> None:
    """Records after ``keep`` lost, cut as the hub writes (under its flock, as a writer is)."""
    fd = os.open(log, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        lines = os.pread(fd, os.fstat(fd).st_size, 0).split(b"\n")
        os.ftruncate(fd, sum(len(x) + 1 for x in lines[:keep]))
    finally:
        os.close(fd)


def test_a_running_hub_signs_on_after_a_reanchor() -> None:
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360r-", dir="/tmp") as d:
        data, server_log = Path(d) / "data", Path(d) / "server.log"
        port = free_port()
        env = {**os.environ, "C360_DATA_DIR": str(data), "C360_AUDIT_CHECKPOINT_EVERY": "1",
               "C360_AUDIT_CHECKPOINT_INTERVAL_S": "1"}  # fmt: skip
        with server_log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, 120.0, log_tail=lambda: server_log.read_text()[-3000:])
            key = load_or_create_secret(data, "jwt")
            token = issue_token(key, "po1", ["privacy_officer"], purpose="compliance",
                                ttl=timedelta(hours=1))  # fmt: skip

            def chain() -> dict[str, Any]:
                answer = httpx.post(url + "/graphql", json={"query": CHAIN}, timeout=30,
                                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                chain: dict[str, Any] = answer.json()["data"]["auditChain"]
                return chain

            for _ in range(4):  # audited requests; the hub signs over them
                chain()
            until(lambda: max(sizes(data), default=0) >= 4, "checkpoint over 4 records", server_log)
            cut_under_the_writers_lock(data / "audit" / "audit.log", keep=2)
            until(
                lambda: "checkpoints paused" in server_log.read_text() and not chain()["verified"],
                "the hub paused checkpoints",
                server_log,
            )
            paused = sizes(data)

            done = CliRunner().invoke(
                cli, ["audit", "reanchor", "--reason", "disk lost", "--actor", "po1", "--yes"],
                env={"C360_DATA_DIR": str(data), "COLUMNS": "250"},
            )  # fmt: skip
            assert done.exit_code == 0, done.output
            fresh = sizes(data)
            assert len(fresh) == 1 and fresh[0] > 2, fresh
            [kept] = (data / "audit").glob("checkpoints.lost-*.jsonl")
            assert [json.loads(x)["size"] for x in kept.read_text().splitlines()] == paused

            # The same process signs on from the fresh checkpoint, and auditChain is green.
            until(lambda: chain()["verified"], "auditChain verified again", server_log)
            until(lambda: len(sizes(data)) > 1, "the hub signed after the re-anchor", server_log)
            assert sizes(data)[0] == fresh[0] and sizes(data)[1] > fresh[0], sizes(data)
            assert process.poll() is None  # never restarted
            done = CliRunner().invoke(cli, ["audit", "verify"], env={"C360_DATA_DIR": str(data)})
            assert done.exit_code == 0 and "OK checkpoint" in done.output, done.output
        finally:
            stop(process)
