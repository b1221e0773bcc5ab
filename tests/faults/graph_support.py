"""What the graph fault tests share: a real `c360 serve` subprocess, tokens, process census."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.live import wait_ready

REPO = Path(__file__).resolve().parents[2]
UPSERT = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"


def redis_servers(sock: Path) -> list[int]:
    """Pids of every process whose command line names this socket (what `ps` would show)."""
    wanted = str(sock).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if wanted in cmdline and b"redis-server" in cmdline:
            pids.append(int(entry.name))
    return pids


def writer_token(data_dir: Path) -> str:
    key = load_or_create_secret(data_dir, "jwt")
    return issue_token(key, "sa1", ["service_agent"], purpose="service", purposes=["service"])


def reader_token(data_dir: Path) -> str:
    key = load_or_create_secret(data_dir, "jwt")
    return issue_token(key, "po1", ["privacy_officer"], purpose="compliance")


@dataclass
class Hub:
    """A `c360 serve` subprocess on one port and data dir."""

    data_dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "C360_DATA_DIR": str(self.data_dir), "C360_GRAPH_URL": ""}
        with (self.data_dir.parent / f"hub-{self.port}.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "c360"), "serve", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Seconds until /readyz answers 200."""
        assert self.proc is not None, "the hub was not started"
        return wait_ready(self.url, self.proc, timeout_s, poll_s=0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def running_hub(data_dir: Path, port: int) -> Iterator[Hub]:
    hub = Hub(data_dir, port)
    hub.start()
    try:
        hub.wait_ready()
        yield hub
    finally:
        hub.stop()


def upsert(client: httpx.Client, url: str, token: str, customer_id: str) -> str:
    """One upsertCustomer; returns "ok" when acknowledged, else the error code."""
    try:
        response = client.post(
            url + "/graphql",
            json={"query": UPSERT, "variables": {"input": {"id": customer_id, "name": "持久"}}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError:
        return "connection"
    if response.status_code != 200:
        return f"http {response.status_code}"
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code"))
    return "ok" if body["data"]["upsertCustomer"]["id"] == customer_id else "wrong"


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout_s}s")
