"""FalkorDB only: the server going away under an open store is GraphUnavailable."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.embedded import EmbeddedFalkorDB
from graph.errors import GraphUnavailable
from graph.falkordb import FalkorDBStore


@pytest.fixture
def server() -> Iterator[EmbeddedFalkorDB]:
    # A private server (short path: the unix socket lives inside), not the session's.
    with tempfile.TemporaryDirectory(prefix="c360o-", dir="/tmp") as d:
        embedded = EmbeddedFalkorDB(Path(d))
        embedded.ensure()
        yield embedded
        embedded.stop()


async def test_server_stopped_under_a_store_is_graph_unavailable(
    server: EmbeddedFalkorDB,
) -> None:
    # Connected by URL, so the store cannot restart the server as an embedded owner would.
    store = FalkorDBStore.from_url(f"unix://{server.socket_path}")
    try:
        await store.write("MERGE (c:Customer {id: 'C1'})")
        server.stop()
        with pytest.raises(GraphUnavailable):
            await store.read("MATCH (c:Customer) RETURN count(c) AS n")
        with pytest.raises(GraphUnavailable):
            await store.ping()
    finally:
        await store.close()
