"""/console and the offline GraphiQL page through the ASGI app (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import jwt

from console import graphiql_html
from hub.app import create_app
from hub.settings import Settings
from privacy.secrets import load_or_create_secret

STATIC = Path(__file__).parents[2] / "console" / "static"


def client(data_dir: Path, demo: bool) -> httpx.AsyncClient:
    app = create_app(Settings(data_dir=data_dir, demo=demo, graphiql=True))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_console_is_served_from_the_package(data_dir: Path) -> None:
    async with client(data_dir, demo=False) as c:
        redirect = await c.get("/console")
        assert redirect.status_code == 308 and redirect.headers["location"] == "/console/"
        page = await c.get("/console/")
        assert page.status_code == 200 and 'src="/console/app.js"' in page.text
        echarts = await c.get("/console/vendor/echarts/echarts.min.js")
        assert echarts.status_code == 200 and len(echarts.content) > 500_000
        assert (await c.get("/console/vendor/echarts/LICENSE")).status_code == 200


async def test_graphiql_page_loads_nothing_from_outside(data_dir: Path) -> None:
    # The page GET /graphql answers (the browser test loads it from a live hub).
    sources = re.findall(r'(?:src|href)="([^"]+)"', graphiql_html())
    assert "/console/vendor/graphiql/graphiql.min.js" in sources
    assert all(s.startswith(("/console/", "data:")) for s in sources), sources
    async with client(data_dir, demo=False) as c:
        for src in sources:
            if src.startswith("/console/"):
                assert (await c.get(src)).status_code == 200, src


def test_no_console_file_refers_to_a_network_address() -> None:
    # Our own files only (vendored builds carry URLs in comments and error messages).
    ours = [p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts]
    assert len(ours) >= 10
    for path in ours:
        assert not re.search(r"(?:src|href)=\"https?://|import .* from \"https?://|fetch\(\"https?://",
                             path.read_text(encoding="utf-8")), path  # fmt: skip


async def test_demo_tokens_only_from_a_demo_hub(data_dir: Path) -> None:
    async with client(data_dir, demo=False) as c:
        assert (await c.get("/console/demo-token")).json() == {"roles": []}
        assert (await c.post("/console/demo-token", json={"role": "auditor"})).status_code == 405
    async with client(data_dir, demo=True) as c:
        assert "marketing_analyst" in (await c.get("/console/demo-token")).json()["roles"]
        bad = await c.post("/console/demo-token", json={"role": "root"})
        assert bad.status_code == 400 and "unknown demo role" in bad.json()["error"]
        minted = await c.post("/console/demo-token", json={"role": "marketing_analyst"})
    claims = jwt.decode(
        minted.json()["token"], load_or_create_secret(data_dir, "jwt"), algorithms=["HS256"]
    )
    assert claims["roles"] == ["marketing_analyst"]
    assert claims["purposes"] == ["marketing"] and claims["purpose"] == "marketing"


def test_names_the_console_assumes_without_introspection_exist_in_the_schema() -> None:
    # With introspection off the console falls back to SHIPPED (console/static/api.js): every
    # name there must be in the exported SDL, or a production console would call a missing field.
    source = (STATIC / "api.js").read_text(encoding="utf-8")
    block = source.split("export const SHIPPED = {", 1)[1].split("};", 1)[0]
    names = re.findall(r'"(\w+)"', block)
    assert "proposePolicy" in names
    sdl = (Path(__file__).parents[2] / "schema" / "schema.graphql").read_text(encoding="utf-8")
    missing = [n for n in names if not re.search(rf"\b{n}\b", sdl)]
    assert missing == []


def test_every_ui_message_has_both_languages_and_every_key_used_exists() -> None:
    # One table, [zh, en] per message (console/static/i18n.js): no message in one language only.
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    table = source.split("const TEXT = {", 1)[1].split("\n};", 1)[0]
    entries = re.findall(r'^\s+(\w+): \[("(?:[^"\\]|\\.)*"), ("(?:[^"\\]|\\.)*")\],$', table, re.M)
    lines = [line for line in table.splitlines() if line.strip()]
    assert len(entries) == len(lines) >= 150, [ln for ln in lines if "[" not in ln][:3]
    assert all(zh.strip('"') and en.strip('"') for _, zh, en in entries)
    keys = {key for key, _, _ in entries}
    assert len(keys) == len(entries)  # no key twice
    used: set[str] = set()
    for path in STATIC.rglob("*.js"):
        if "vendor" not in path.parts:
            used |= set(re.findall(r'\bt\("(\w+)"\)', path.read_text(encoding="utf-8")))
    assert used - keys == set()
