"""What the console's browser tests hold on to: the live hub and a watched browser page."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("C360_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Set C360_CONSOLE_DOCS=docs/console to refresh the README's screenshots from a test run.
DOCS_DIR = os.environ.get("C360_CONSOLE_DOCS")


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

    def graphql(
        self, query: str, token: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = httpx.post(
            self.url + "/graphql", json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        response.raise_for_status()
        return response.json()


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

    def open_asking(self, page: str, asked: str) -> dict[str, Any]:
        """Open ``page``; the variables of its GraphQL request whose text holds ``asked``."""
        with self.page.expect_request(
            lambda r: r.url.endswith("/graphql") and asked in (r.post_data or "")
        ) as request:
            self.open(page)
        return dict(json.loads(request.value.post_data or "{}")["variables"])

    def search(self, field: str, text: str) -> None:
        """Type ``text`` into the page's filter ``field`` (a selector) and submit the form."""
        self.page.fill(field, text)
        self.page.click("form.filters button[type=submit]")

    def shot(self, name: str, full_page: bool = False) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        if DOCS_DIR:
            shutil.copy(path, Path(DOCS_DIR) / path.name)
        return path
