"""Fixtures: one real demo hub per module (`c360 serve --demo` subprocess: embedded FalkorDB,
Rego, demo book and the demo social stream it ingests itself) and Debian's chromium via
Playwright.

test_console.py skips with a reason only where chromium (or the playwright package) cannot be
found; `.ci/run` installs chromium with apt-get first.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.console.browser import CHROMIUM, ConsoleHub, Watched
from tests.live import free_port, stop, wait_ready

WEBHOOK_SECRET = "console-test-secret"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage


@contextlib.contextmanager
def demo_hub(**extra_env: str) -> Iterator[ConsoleHub]:
    """A `c360 serve --demo` subprocess on a free port, ready; ``extra_env`` adds settings."""
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360c-", dir="/tmp") as d:
        data_dir = Path(d) / "data"
        port = free_port()
        log_path = Path(d) / "server.log"
        env = {
            **os.environ,
            "C360_DATA_DIR": str(data_dir),
            "C360_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Scoring a batch of posts on a busy 2-core machine may take longer than 15 s.
            "C360_REQUEST_TIMEOUT_S": "120",
            # A policy's tests in their child process took over the default 20 s at load 9-10
            # (refused as POLICY_TEST_TIMEOUT): bounded by the request's time instead.
            "C360_POLICY_TEST_TIMEOUT_S": "120",
            **extra_env,
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve", "--demo",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                # Ready once the demo book and posts are in (serve --demo ingests them).
                wait_ready(url, process, log_tail=lambda: log_path.read_text()[-3000:])
                yield ConsoleHub(url, data_dir, log_path)
            finally:
                stop(process)


@pytest.fixture(scope="module")
def hub() -> Iterator[ConsoleHub]:
    with demo_hub() as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Imported here: without the package, test_console.py skips before any fixture runs.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def watched(browser: Browser, hub: ConsoleHub, tmp_path: Path) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    w = Watched(page, hub.url, tmp_path)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            w.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: w.errors.append(f"uncaught: {exc}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith((hub.url, "data:")) else w.outside.append(r.url),
    )
    yield w
    context.close()
