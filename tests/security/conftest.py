"""A real hub: `c360 serve` in a subprocess (uvicorn, embedded FalkorDB, Rego), its log captured.

Module-scoped so the DoS, log and GraphQL-over-HTTP checks see what a deployment would: a
real event loop that other requests share, and the log lines an operator would keep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.api.conftest import api, client, make_token, settings  # noqa: F401

# The in-process hub of the API tests (ASGI transport) for the checks that need no server.
from tests.live import free_port, stop, wait_ready

ALL_PURPOSES = ["service", "marketing", "risk", "compliance"]


@dataclass
class LiveHub:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def token(
        self, roles: list[str], purpose: str | None, sub: str = "sec1", branch: str | None = None
    ) -> str:
        key = load_or_create_secret(self.data_dir, "jwt")
        return issue_token(key, sub, roles, purpose=purpose, branch=branch, ttl=timedelta(hours=1))

    def headers(self, role: str, purpose: str | None, sub: str = "sec1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token([role], purpose, sub)}"}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def live_hub(request: pytest.FixtureRequest) -> Iterator[LiveHub]:
    """One server per test module; a module's ``LIVE_HUB_ENV`` dict adds to its environment."""
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360s-", dir="/tmp") as d:
        data_dir = Path(d) / "data"
        port = free_port()
        log_path = Path(d) / "server.log"
        env = {
            **os.environ,
            "C360_DATA_DIR": str(data_dir),
            "C360_WEBHOOK_SECRET": "sec-test-secret",
            "C360_INTROSPECTION": "false",
            **getattr(request.module, "LIVE_HUB_ENV", {}),
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            hub = LiveHub(f"http://127.0.0.1:{port}", data_dir, log_path, process)
            try:
                wait_ready(hub.url, hub.process, 60.0, log_tail=lambda: hub.log()[-3000:])
                yield hub
            finally:
                stop(process)
