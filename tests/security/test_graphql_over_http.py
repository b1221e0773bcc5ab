"""GraphQL over HTTP (issue 11, item 8): graphql-http's own server audit against a live hub.

The audit is the npm package (pinned in graphql_http/package.json), installed on first use
into a cache under the system temp dir; the test is skipped, with the reason, when node or
npm is missing or the install cannot reach the registry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import LiveHub

HERE = Path(__file__).parent / "graphql_http"
# The audit asks `__type(name: ...)`: it runs against a hub with introspection on, as
# `c360 serve --demo` has it (the default, off, refuses that query by design).
LIVE_HUB_ENV = {"C360_INTROSPECTION": "true"}


def audit_dir() -> Path:
    """The audit tool with its node_modules, keyed by the package.json it was installed from."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: the graphql-http audit needs them")
    manifest = (HERE / "package.json").read_bytes()
    target = (
        Path(tempfile.gettempdir())
        / f"c360-graphql-http-{hashlib.sha256(manifest).hexdigest()[:12]}"
    )
    if not (target / "node_modules" / "graphql-http").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "package.json", target / "package.json")
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"npm install graphql-http failed: {done.stderr.strip()[-300:]}")
    shutil.copy(HERE / "audit.mjs", target / "audit.mjs")
    return target


def test_graphql_http_audit_passes_every_must_and_should(live_hub: LiveHub) -> None:
    tool = audit_dir()
    token = live_hub.token(["service_agent"], "service")
    done = subprocess.run(
        ["node", "audit.mjs", live_hub.url + "/graphql", token],
        cwd=tool, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    results = json.loads(done.stdout.strip().splitlines()[-1])
    by_level: Counter[tuple[str, str]] = Counter(
        (r["name"].split()[0], r["status"]) for r in results
    )
    totals = Counter(r["name"].split()[0] for r in results)
    summary = {level: f"{by_level[(level, 'ok')]}/{totals[level]}" for level in totals}
    print(f"graphql-http audit: {summary}", file=sys.stderr)
    failing = [r for r in results if r["status"] in ("error", "warn")]
    assert failing == [], failing
    assert by_level[("MUST", "ok")] >= 13 and by_level[("SHOULD", "ok")] >= 23


def test_old_clients_keep_application_json(live_hub: LiveHub) -> None:
    headers = live_hub.headers("service_agent", "service")
    for accept in (None, "application/json", "*/*"):
        sent = {**headers, **({"Accept": accept} if accept else {})}
        response = httpx.post(live_hub.url + "/graphql", json={"query": "{ nope }"}, headers=sent)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["data"] is None and response.json()["errors"]


def test_graphql_response_json_gets_400_without_data(live_hub: LiveHub) -> None:
    headers = {
        **live_hub.headers("service_agent", "service"),
        "Accept": "application/graphql-response+json, application/json;q=0.9",
    }
    for query in ("{ nope }", "{", '{ customers(first: "x") { totalCount } }'):
        response = httpx.post(live_hub.url + "/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        assert "data" not in response.json()
    ok = httpx.post(live_hub.url + "/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
