"""Persisted queries (issue 16): an allow-list of documents by SHA-256, APQ-style requests by
hash, and a mode that refuses every other document; through the ASGI app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.store import GraphStore
from hub.app import create_app
from hub.persisted import PersistedQueries, PersistedQueriesFileError, sha256_hex
from shared.settings import Settings

LISTED = "{ customers(first: 1) { totalCount } }"
OTHER = "{ customers(first: 2) { totalCount } }"


def _apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def _hub(store: GraphStore, data_dir: Path, only: bool) -> AsyncIterator[httpx.AsyncClient]:
    allow = data_dir / "persisted.json"
    allow.write_text(json.dumps({sha256_hex(LISTED): LISTED}))
    settings = Settings(data_dir=data_dir, persisted_queries=allow, persisted_queries_only=only)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield c


@pytest.fixture
async def only_hub(store: GraphStore, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _hub(store, data_dir, only=True):
        yield c


@pytest.fixture
async def open_hub(store: GraphStore, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _hub(store, data_dir, only=False):
        yield c


def _code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_only_mode_runs_listed_documents_by_hash_or_text(
    only_hub: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    by_hash = await only_hub.post(
        "/graphql", json={"extensions": _apq(sha256_hex(LISTED))}, headers=headers
    )
    assert by_hash.status_code == 200 and by_hash.json()["data"]["customers"]["totalCount"] == 0
    by_text = await only_hub.post("/graphql", json={"query": LISTED}, headers=headers)
    assert by_text.json()["data"]["customers"]["totalCount"] == 0

    refused = (await only_hub.post("/graphql", json={"query": OTHER}, headers=headers)).json()
    assert refused["data"] is None and _code(refused) == "PERSISTED_QUERY_NOT_ALLOWED"
    # Sending the document with its own hash does not register it in this mode.
    register = {"query": OTHER, "extensions": _apq(sha256_hex(OTHER))}
    refused = (await only_hub.post("/graphql", json=register, headers=headers)).json()
    assert _code(refused) == "PERSISTED_QUERY_NOT_ALLOWED"
    unknown = {"extensions": _apq(sha256_hex(OTHER))}
    missing = (await only_hub.post("/graphql", json=unknown, headers=headers)).json()
    assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    # The GraphQL-over-HTTP media type gets the spec's 400 for a request that never ran.
    strict = {**headers, "Accept": "application/graphql-response+json"}
    response = await only_hub.post("/graphql", json={"query": OTHER}, headers=strict)
    assert response.status_code == 400 and "data" not in response.json()


async def test_apq_registers_documents_sent_with_their_hash(
    open_hub: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    digest = sha256_hex(OTHER)
    first = (
        await open_hub.post("/graphql", json={"extensions": _apq(digest)}, headers=headers)
    ).json()
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"
    wrong = {"query": OTHER, "extensions": _apq(sha256_hex(LISTED + " "))}
    mismatch = (await open_hub.post("/graphql", json=wrong, headers=headers)).json()
    assert _code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"
    register = {"query": OTHER, "extensions": _apq(digest)}
    ran = (await open_hub.post("/graphql", json=register, headers=headers)).json()
    assert ran["data"]["customers"]["totalCount"] == 0
    again = (
        await open_hub.post("/graphql", json={"extensions": _apq(digest)}, headers=headers)
    ).json()
    assert again["data"]["customers"]["totalCount"] == 0
    # Any document runs without a hash when the mode is off.
    plain = (await open_hub.post("/graphql", json={"query": OTHER}, headers=headers)).json()
    assert plain["data"]["customers"]["totalCount"] == 0


def test_the_allow_list_file_is_checked(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([LISTED, OTHER]))
    assert set(PersistedQueries.from_settings(listed, True).documents) == {
        sha256_hex(LISTED),
        sha256_hex(OTHER),
    }
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({sha256_hex(OTHER): LISTED}))
    with pytest.raises(PersistedQueriesFileError, match="not the SHA-256"):
        PersistedQueries.from_settings(wrong, True)
    with pytest.raises(PersistedQueriesFileError, match="needs C360_PERSISTED_QUERIES"):
        PersistedQueries.from_settings(None, True)
    with pytest.raises(PersistedQueriesFileError, match="cannot read"):
        PersistedQueries.from_settings(tmp_path / "absent.json", False)


async def test_a_learned_document_runs_by_hash_only_for_the_subject_that_sent_it(
    open_hub: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    # QA, session 19: the learned documents were shared, so any caller could ask by hash
    # whether anyone had run an exact document (one with a phone number inlined, say).
    alice = {"Authorization": f"Bearer {make_token(sub='alice')}"}
    bob = {"Authorization": f"Bearer {make_token(sub='bob')}"}
    digest = sha256_hex(OTHER)
    register = {"query": OTHER, "extensions": _apq(digest)}
    ran = (await open_hub.post("/graphql", json=register, headers=alice)).json()
    assert ran["data"]["customers"]["totalCount"] == 0
    by_hash = {"extensions": _apq(digest)}
    again = (await open_hub.post("/graphql", json=by_hash, headers=alice)).json()
    assert again["data"]["customers"]["totalCount"] == 0
    other = (await open_hub.post("/graphql", json=by_hash, headers=bob)).json()
    assert other["errors"][0]["message"] == "PersistedQueryNotFound", other
    assert _code(other) == "PERSISTED_QUERY_NOT_FOUND" and not other.get("data"), other
    # The allow-list is everyone's.
    listed = {"extensions": _apq(sha256_hex(LISTED))}
    shared = (await open_hub.post("/graphql", json=listed, headers=bob)).json()
    assert shared["data"]["customers"]["totalCount"] == 0, shared
