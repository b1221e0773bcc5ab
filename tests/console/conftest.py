"""One real demo hub per module (`c360 serve --demo` subprocess: embedded FalkorDB, Rego, demo
book plus demo posts through the signed webhook) and Debian's chromium driven by Playwright.

Skips with a reason only where chromium (or the playwright package) cannot be found;
`.ci/run` installs chromium with apt-get first.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.console.social_demo import demo_posts, push_posts

CHROMIUM = os.environ.get("C360_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WEBHOOK_SECRET = "console-test-secret"
# Set C360_CONSOLE_DOCS=docs/console to refresh the README's screenshots from a test run.
DOCS_DIR = os.environ.get("C360_CONSOLE_DOCS")

try:
    from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

if sync_playwright is None:
    pytest.skip("the playwright package is not installed (pip install -e '.[test]')",
                allow_module_level=True)  # fmt: skip
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)",
                allow_module_level=True)  # fmt: skip


@dataclass
class ConsoleHub:
    url: str
    data_dir: Path
    log_path: Path

    def token(self, sub: str, roles: list[str], purposes: list[str]) -> str:
        key = load_or_create_secret(self.data_dir, "jwt")
        return issue_token(
            key, sub, roles, purpose=purposes[0] if purposes else None,
            purposes=purposes or None, ttl=timedelta(hours=1),
        )  # fmt: skip

    def graphql(self, query: str, token: str) -> dict:
        response = httpx.post(
            self.url + "/graphql", json={"query": query},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        response.raise_for_status()
        return response.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"c360 serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"c360 serve --demo not ready:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def hub() -> Iterator[ConsoleHub]:
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360c-", dir="/tmp") as d:
        data_dir = Path(d) / "data"
        port = _free_port()
        log_path = Path(d) / "server.log"
        env = {
            **os.environ,
            "C360_DATA_DIR": str(data_dir),
            "C360_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Scoring a batch of posts on a busy 2-core machine may take longer than 15 s.
            "C360_REQUEST_TIMEOUT_S": "120",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve", "--demo",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(url, process, log_path)
                push_posts(url, WEBHOOK_SECRET, demo_posts(datetime.now(UTC)))
                yield ConsoleHub(url, data_dir, log_path)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    """A page with everything that went wrong on it: console errors, uncaught exceptions,
    and requests that left the hub (there must be none: no CDN)."""

    page: Page
    base: str
    shots: Path
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def sign_in(self, role: str) -> None:
        self.page.goto(self.base + "/console/")
        self.page.click(f"button[data-role={role}]")
        self.page.wait_for_selector("#who-subject")

    def open(self, page: str) -> None:
        self.page.goto(f"{self.base}/console/#/{page}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        if DOCS_DIR:
            shutil.copy(path, Path(DOCS_DIR) / path.name)
        return path


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
