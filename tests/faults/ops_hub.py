"""Shared by the operations fault tests: an in-process hub over the session's real graph.

Not a conftest (the graph fault tests keep theirs): test modules import what they use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

UPSERT = """mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id name } }"""
LOG = """mutation($input: InteractionInput!) { logInteraction(input: $input) { id } }"""
READ = """query($id: ID!) { customer(id: $id) { id name interactions { totalCount } } }"""


class Caller:
    """POST /graphql as one role with one purpose."""

    def __init__(self, client: httpx.AsyncClient, data_dir: Path, role: str, purpose: str) -> None:
        key = load_or_create_secret(data_dir, "jwt")
        token = issue_token(key, f"{role}-1", [role], purpose=purpose)
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self._headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def hub_client(store: GraphStore, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=data_dir, introspection=False)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in body.get("errors") or []]


async def interactions_of(store: GraphStore, customer_id: str) -> int:
    rows = await store.read(
        "MATCH (:Customer {id: $id})-[:HAD]->(i:Interaction) RETURN count(i) AS n",
        {"id": customer_id},
    )
    return int(rows[0]["n"]) if rows else 0
