"""An in-process hub over the session's real graph, reached through httpx's ASGI transport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

ALL_PURPOSES = ["service", "marketing", "risk", "compliance"]


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, introspection=False)


@pytest.fixture
def make_token(data_dir: Path) -> Callable[..., str]:
    def make(
        roles: list[str] | None = None,
        *,
        sub: str = "u1",
        purpose: str | None = "compliance",
        purposes: list[str] | None = None,
        ttl: timedelta = timedelta(hours=1),
    ) -> str:
        key = load_or_create_secret(data_dir, "jwt")
        return issue_token(
            key, sub, roles or ["privacy_officer"], purpose=purpose, purposes=purposes, ttl=ttl
        )

    return make


class Api:
    """POST /graphql with a token; ``gql`` returns the decoded JSON body."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()


def codes(body: dict[str, Any]) -> list[str]:
    """The error codes of a GraphQL answer, in order ([] when it has none)."""
    return [e["extensions"]["code"] for e in body.get("errors") or []]


@contextlib.asynccontextmanager
async def serve(store: GraphStore, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the hub built from ``settings`` over ``store``, its lifespan running."""
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield c


@pytest.fixture
async def client(store: GraphStore, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(store, settings) as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, make_token: Callable[..., str]) -> Api:
    return Api(client, make_token(purposes=ALL_PURPOSES))


@pytest.fixture
def as_role(client: httpx.AsyncClient, make_token: Callable[..., str]) -> Callable[..., Api]:
    """An Api for one role with one purpose (``as_role("advisor", "service", "ADV1")``)."""

    def make(role: str, purpose: str | None, sub: str = "u1") -> Api:
        return Api(client, make_token([role], sub=sub, purpose=purpose, purposes=None))

    return make


@pytest.fixture
def officer(as_role: Callable[..., Api]) -> Api:
    """Privacy officer for compliance: sees everything, writes nothing."""
    return as_role("privacy_officer", "compliance", "po1")


@pytest.fixture
def marketing(as_role: Callable[..., Api]) -> Api:
    """Marketing analyst for marketing: consenting customers only, identifiers masked."""
    return as_role("marketing_analyst", "marketing", "mk1")


@pytest.fixture
def agent(as_role: Callable[..., Api]) -> Api:
    """Service agent: may write any customer, reads with the service masks, no social grant."""
    return as_role("service_agent", "service", "sa1")
