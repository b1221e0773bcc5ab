"""Routes for /console: the static files, and (``serve --demo`` only) demo tokens per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

STATIC_DIR = Path(__file__).parent / "static"
DEMO_TOKEN_TTL = timedelta(hours=8)


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

    def __init__(self, data_dir: Path, demo: bool) -> None:
        self.data_dir = data_dir
        self.demo = demo

    async def roles(self, request: Request) -> Response:
        # Always answers, so the sign-in page asks without a 404 in the browser's console.
        return JSONResponse({"roles": list(DEMO_ROLES) if self.demo else []})

    async def mint(self, request: Request) -> Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        role = body.get("role") if isinstance(body, dict) else None
        if role not in DEMO_ROLES:
            return JSONResponse(
                {"error": f"unknown demo role; use one of {', '.join(DEMO_ROLES)}"}, 400
            )
        return JSONResponse({"token": mint_demo_token(self.data_dir, role)})


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/console/", 308)


@cache
def graphiql_html() -> str:
    """GraphiQL for GET /graphql, loading its scripts from /console/vendor (works offline)."""
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


def console_routes(data_dir: Path, *, demo: bool) -> list[BaseRoute]:
    """/console (redirect), /console/* (static), /console/demo-token (minting: demo only)."""
    tokens = DemoTokens(data_dir, demo)
    return [
        Route("/console", _to_console, methods=["GET"]),
        Route("/console/demo-token", tokens.roles, methods=["GET"]),
        *([Route("/console/demo-token", tokens.mint, methods=["POST"])] if demo else []),
        Mount("/console", StaticFiles(directory=STATIC_DIR, html=True)),
    ]


__all__ = ["DEMO_ROLES", "DemoRole", "console_routes", "graphiql_html", "mint_demo_token"]
