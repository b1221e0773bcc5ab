"""A hub over the session's real graph for the privacy security tests (oracles, derived
fields, four-eyes), with callers by role. Plain helpers, not fixtures: each test module
declares the fixtures it needs, so tests/security/ needs no conftest of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.api.conftest import Api


@asynccontextmanager
async def open_hub(
    store: GraphStore, data_dir: Path, **settings: object
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=data_dir, introspection=False, **settings), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield c


def callers(client: httpx.AsyncClient, data_dir: Path) -> Callable[..., Api]:
    """``make(role, purpose, sub)`` -> an Api with a token for that one role and purpose."""

    def make(role: str, purpose: str | None, sub: str = "u1") -> Api:
        key = load_or_create_secret(data_dir, "jwt")
        return Api(client, issue_token(key, sub, [role], purpose=purpose))

    return make
