"""/console and the offline GraphiQL page through the ASGI app (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import jwt
import pytest

from console import graphiql_html
from console.routes import mint_demo_token
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from hub.app import create_app, seed_demo_if_empty
from hub.demo_guard import WRONG_HOST, demo_book_ids, foreign_customer, record_demo_book
from hub.settings import Settings
from privacy.secrets import load_or_create_secret
from tests.api.test_error_echo import audit_records

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


async def test_pages_carry_browser_security_headers(data_dir: Path, store: GraphStore) -> None:
    # A framing page must not click for a privacy officer; scripts only from the hub.
    app = create_app(Settings(data_dir=data_dir, graphiql=True), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
        for path in ("/console/", "/graphql"):
            page = await c.get(path, headers={"accept": "text/html"})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            csp = page.headers["content-security-policy"]
            assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
        answer = await c.get("/console/app.js")  # not a page: the plain headers only
        assert "javascript" in answer.headers["content-type"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert "content-security-policy" not in answer.headers


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


@asynccontextmanager
async def demo_client(
    data_dir: Path, store: GraphStore, host: str = "127.0.0.1:8000"
) -> AsyncIterator[httpx.AsyncClient]:
    # With its lifespan: the audit log a demo token is recorded in is opened there.
    app = create_app(Settings(data_dir=data_dir, demo=True, graphiql=True), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as c:
            yield c


async def demo_book(store: GraphStore, data_dir: Path, ids: list[str]) -> None:
    await upsert_customers(store, [{"id": i, "props": {"name": "演示"}} for i in ids])
    record_demo_book(data_dir, ids)


async def test_demo_tokens_only_from_a_demo_hub(data_dir: Path, store: GraphStore) -> None:
    async with client(data_dir, demo=False) as c:
        assert (await c.get("/console/demo-token")).json() == {"roles": []}
        assert (await c.post("/console/demo-token", json={"role": "auditor"})).status_code == 405
    await demo_book(store, data_dir, ["C000001", "C000002"])
    async with demo_client(data_dir, store) as c:
        assert "marketing_analyst" in (await c.get("/console/demo-token")).json()["roles"]
        bad = await c.post("/console/demo-token", json={"role": "root"})
        assert bad.status_code == 400 and "unknown demo role" in bad.json()["error"]
        minted = await c.post("/console/demo-token", json={"role": "marketing_analyst"})
    claims = jwt.decode(
        minted.json()["token"], load_or_create_secret(data_dir, "jwt"), algorithms=["HS256"]
    )
    assert claims["roles"] == ["marketing_analyst"]
    assert claims["purposes"] == ["marketing"] and claims["purpose"] == "marketing"
    # On record, as every issued token: the console as issuer, the client, the claims.
    issued = [r for r in audit_records(data_dir) if r["operation"] == "console demo token"]
    assert [r["subject"] for r in issued] == ["console"]
    details = issued[0]["details"]
    assert details["token_issued"]["sub"] == "mkt1" and details["client"] == "127.0.0.1"
    assert details["token_issued"]["roles"] == ["marketing_analyst"]
    assert minted.json()["token"] not in str(issued)


async def test_a_demo_role_that_is_no_string_is_refused_as_unknown(
    data_dir: Path, store: GraphStore
) -> None:
    # A list or an object was looked up among the roles as it was (unhashable): a plain-text
    # 500 and a TypeError in the log. Refused as any other unknown role.
    await demo_book(store, data_dir, ["C000001"])
    async with demo_client(data_dir, store) as c:
        for role in (["privacy_officer"], {"a": 1}, 1, None, True):
            bad = await c.post("/console/demo-token", json={"role": role})
            assert bad.status_code == 400, role
            assert "unknown demo role" in bad.json()["error"], role
    assert not [r for r in audit_records(data_dir) if r["operation"] == "console demo token"]


async def test_no_demo_token_without_an_open_audit_log(data_dir: Path, store: GraphStore) -> None:
    # Fail closed: a hub whose audit log is not open (its lifespan has not opened the privacy
    # services, or they failed) hands out no token it could not record.
    await demo_book(store, data_dir, ["C000001"])
    app = create_app(Settings(data_dir=data_dir, demo=True), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        refused = await c.post("/console/demo-token", json={"role": "auditor"})
    assert refused.status_code == 503 and "audit" in refused.json()["error"]
    assert "token" not in refused.json()


ROLE = b'{"role": "privacy_officer"}'


@pytest.mark.parametrize("host", ["localhost:18360", "127.0.0.1:18360", "[::1]:18360", "localhost"])
async def test_demo_tokens_for_loopback_hosts(data_dir: Path, store: GraphStore, host: str) -> None:
    await demo_book(store, data_dir, ["C000001"])
    async with demo_client(data_dir, store, host) as c:
        minted = await c.post("/console/demo-token", json={"role": "auditor"})
        assert minted.status_code == 200 and minted.json()["token"]


async def test_a_dns_rebinding_page_gets_no_token_and_no_data(
    data_dir: Path, store: GraphStore
) -> None:
    # The attacker's page reaches the hub under its own name: every request carries it.
    await demo_book(store, data_dir, ["C000001"])
    async with demo_client(data_dir, store, "attacker.example:18360") as c:
        minted = await c.post("/console/demo-token", json={"role": "privacy_officer"})
        assert minted.status_code == 400 and "token" not in minted.text
        token = mint_demo_token(data_dir, "privacy_officer")
        query = {"query": '{ customer(id: "C000001") { name } }'}
        data = await c.post("/graphql", json=query, headers={"Authorization": f"Bearer {token}"})
        assert data.status_code == 400 and "演示" not in data.text
        # JSON saying what to do, like the hub's other refusals (was text/plain).
        assert data.headers["content-type"].startswith("application/json")
        assert data.json() == {"error": WRONG_HOST}
        assert "localhost" in WRONG_HOST and "without --demo" in WRONG_HOST


@pytest.mark.parametrize("host", ["attacker.example", "localhost.attacker.example:80",
                                  "127.0.0.1.nip.io", "[::2]:8000", "evil@127.0.0.1"])  # fmt: skip
async def test_only_loopback_host_headers_reach_a_demo_hub(
    data_dir: Path, store: GraphStore, host: str
) -> None:
    # No token asked: the app without its lifespan (which would seed the demo book).
    app = create_app(Settings(data_dir=data_dir, demo=True), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        refused = await c.get("/healthz", headers={"Host": host})
        assert refused.status_code == 400 and refused.json() == {"error": WRONG_HOST}
        assert (await c.get("/healthz", headers={"Host": "LOCALHOST:1"})).status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])  # fmt: skip
async def test_demo_tokens_need_a_json_body(
    data_dir: Path, store: GraphStore, content_type: str | None
) -> None:
    # A cross-origin page may send these without a CORS preflight; application/json it may not.
    await demo_book(store, data_dir, ["C000001"])
    headers = {"content-type": content_type} if content_type else {}
    async with demo_client(data_dir, store) as c:
        refused = await c.post("/console/demo-token", content=ROLE, headers=headers)
        assert refused.status_code == 415 and "token" not in refused.json()
        assert "access-control-allow-origin" not in refused.headers
        ok = await c.post("/console/demo-token", content=ROLE,
                          headers={"content-type": "application/json; charset=utf-8"})  # fmt: skip
        assert ok.status_code == 200 and "access-control-allow-origin" not in ok.headers


async def test_no_demo_tokens_on_a_book_the_demo_did_not_seed(
    data_dir: Path, store: GraphStore
) -> None:
    # A graph that held customers before --demo (no record of a demo book): refused.
    await upsert_customers(store, [{"id": "BANK-1", "props": {"name": "真实"}}])
    async with demo_client(data_dir, store) as c:
        refused = await c.post("/console/demo-token", json={"role": "privacy_officer"})
        assert refused.status_code == 403 and "c360 token" in refused.json()["error"]
        # The sign-in page is offered no roles, and told why (QA, session 26: six buttons,
        # each refused).
        offered = (await c.get("/console/demo-token")).json()
        assert offered["roles"] == [] and "c360 token" in offered["off"]
    # A demo book, then an import adds a customer the demo did not write: refused from then on.
    await store.clear()
    await demo_book(store, data_dir, ["C000001"])
    async with demo_client(data_dir, store) as c:
        assert (await c.post("/console/demo-token", json={"role": "auditor"})).status_code == 200
        assert "auditor" in (await c.get("/console/demo-token")).json()["roles"]
        await upsert_customers(store, [{"id": "BANK-1", "props": {"name": "真实"}}])
        refused = await c.post("/console/demo-token", json={"role": "auditor"})
        assert refused.status_code == 403 and "token" not in refused.json()


async def test_seeding_records_the_demo_book(data_dir: Path, store: GraphStore) -> None:
    await seed_demo_if_empty(store, customers=20, data_dir=data_dir)
    ids = demo_book_ids(data_dir)
    assert ids is not None and len(ids) == 20
    assert not await foreign_customer(store, data_dir)


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
