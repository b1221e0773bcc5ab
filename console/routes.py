"""Routes for /console: the static files, and (``serve --demo`` only) demo tokens per role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from privacy.principal import issue_record, issue_token
from privacy.secrets import load_or_create_secret
from privacy.services import AuditSink
from privacy.types import AuditUnavailable

STATIC_DIR = Path(__file__).parent / "static"
DEMO_TOKEN_TTL = timedelta(hours=8)
# Demo tokens go only to requests for these hosts (any port): a DNS-rebinding page reaches a
# developer's hub under its own name, and its Host header says so.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# (status, reason) to refuse a demo token now, else None: the hub's check that the graph
# holds only the demo book (hub/demo_guard.py).
DemoGuard = Callable[[], Awaitable[tuple[int, str] | None]]
# The hub's open audit log, None while it is not open (then no token: fail closed).
AuditOf = Callable[[], AuditSink | None]
# The audit record names the console as the issuer, with the client that asked.
CONSOLE_ISSUER = "console"


@dataclass(frozen=True)
class DemoRole:
    """A sign-in choice of the demo hub: who the token says you are, and what for."""

    subject: str
    roles: tuple[str, ...]
    purposes: tuple[str, ...]
    branch: str | None = None


# The demo book's first advisor manages a few customers; the others see by role and purpose.
DEMO_ROLES: dict[str, DemoRole] = {
    "brand_analyst": DemoRole("brand1", ("brand_analyst",), ()),
    "marketing_analyst": DemoRole("mkt1", ("marketing_analyst",), ("marketing",)),
    "service_agent": DemoRole("agent1", ("service_agent",), ("service",)),
    "advisor": DemoRole("ADV0001", ("advisor",), ("service",)),
    "privacy_officer": DemoRole("po1", ("privacy_officer",), ("compliance",)),
    "auditor": DemoRole("aud1", ("auditor",), ("compliance",)),
}


def mint_demo_token(data_dir: Path, role: str) -> str:
    """A demo token for ``role`` signed with the data dir's HS256 key; KeyError if unknown."""
    demo = DEMO_ROLES[role]
    return issue_token(
        load_or_create_secret(data_dir, "jwt"),
        demo.subject,
        list(demo.roles),
        purpose=demo.purposes[0] if demo.purposes else None,
        purposes=list(demo.purposes) or None,
        branch=demo.branch,
        ttl=DEMO_TOKEN_TTL,
    )


class DemoTokens:
    """GET: the demo roles (none unless demo); POST {"role": ...}: a token (demo hub only)."""

    def __init__(
        self, data_dir: Path, demo: bool, audit: AuditOf, guard: DemoGuard | None = None
    ) -> None:
        self.data_dir = data_dir
        self.demo = demo
        self.audit = audit
        self.guard = guard

    async def roles(self, request: Request) -> Response:
        # Always answers, so the sign-in page asks without a 404 in the browser's console.
        if not self.demo:
            return JSONResponse({"roles": []})
        # A book the demo did not seed gets no demo tokens: the sign-in page says so instead
        # of offering roles every click of which is refused (QA, session 26). A graph not
        # reachable yet still lists them: the click says to try again.
        refused = await self.guard() if self.guard is not None else None
        if refused is not None and refused[0] == 403:
            return JSONResponse({"roles": [], "off": refused[1]})
        return JSONResponse({"roles": list(DEMO_ROLES)})

    async def mint(self, request: Request) -> Response:
        if (request.url.hostname or "").lower() not in LOOPBACK_HOSTS:
            return JSONResponse(
                {"error": "demo tokens only for http://localhost or http://127.0.0.1"}, 403
            )
        # JSON only: a cross-origin text/plain or form POST needs no CORS preflight, so any
        # page could send one; application/json is preflighted, and no CORS allow is given.
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return JSONResponse({"error": "send the role as application/json"}, 415)
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        role = body.get("role") if isinstance(body, dict) else None
        # A string only: a list or an object is no key to look up (unhashable: a 500).
        if not isinstance(role, str) or role not in DEMO_ROLES:
            return JSONResponse(
                {"error": f"unknown demo role; use one of {', '.join(DEMO_ROLES)}"}, 400
            )
        refused = await self.guard() if self.guard is not None else None
        if refused is not None:
            status, reason = refused
            return JSONResponse({"error": reason}, status)
        token = mint_demo_token(self.data_dir, role)
        # Write-ahead, as `c360 token` and the serve --demo banner: on record before it is sent.
        client = request.client.host if request.client else None
        record = issue_record(CONSOLE_ISSUER, "console demo token", token, client=client)
        audit = self.audit()
        try:
            if audit is None:
                raise AuditUnavailable("the audit log is not open")
            await audit.append(record)
        except AuditUnavailable:
            return JSONResponse(
                {"error": "no token: the audit log cannot record it; see /readyz, then retry"},
                503,
            )
        return JSONResponse({"token": token})


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/console/", 308)


@cache
def graphiql_html() -> str:
    """GraphiQL for GET /graphql, loading its scripts from /console/vendor (works offline)."""
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


def console_routes(
    data_dir: Path, *, demo: bool, audit: AuditOf, guard: DemoGuard | None = None
) -> list[BaseRoute]:
    """/console (redirect), /console/* (static), /console/demo-token (minting: demo only,
    loopback hosts only, only while ``guard`` has no objection, each token audited)."""
    tokens = DemoTokens(data_dir, demo, audit, guard)
    return [
        Route("/console", _to_console, methods=["GET"]),
        Route("/console/demo-token", tokens.roles, methods=["GET"]),
        *([Route("/console/demo-token", tokens.mint, methods=["POST"])] if demo else []),
        Mount("/console", StaticFiles(directory=STATIC_DIR, html=True)),
    ]


__all__ = [
    "DEMO_ROLES",
    "LOOPBACK_HOSTS",
    "DemoGuard",
    "DemoRole",
    "console_routes",
    "graphiql_html",
    "mint_demo_token",
]
