"""Driver errors arrive as graph.errors types; reads cannot write."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.connect import open_store
from graph.errors import GraphQueryError, GraphUnavailable
from graph.store import GraphStore
from tests.contract.conftest import Backend


async def test_syntax_error_is_a_query_error(cstore: GraphStore) -> None:
    with pytest.raises(GraphQueryError):
        await cstore.read("MATC (n) RETURN n")
    with pytest.raises(GraphQueryError):
        await cstore.write("UNWIND $rows AS r MERGE (n:Customer {id: r.id) RETURN n", {"rows": []})


async def test_a_write_through_read_is_rejected(cstore: GraphStore) -> None:
    with pytest.raises(GraphQueryError):
        await cstore.read("CREATE (c:Customer {id: $id}) RETURN c.id AS id", {"id": "C9"})
    assert await cstore.read("MATCH (c:Customer) RETURN count(c) AS n") == [{"n": 0}]


async def test_the_store_still_works_after_errors(cstore: GraphStore) -> None:
    with pytest.raises(GraphQueryError):
        await cstore.read("RETURN $missing.x.y AS z +")
    assert await cstore.read("RETURN 1 AS one") == [{"one": 1}]


async def test_nothing_listening_is_graph_unavailable(
    backend: Backend, free_port: int, tmp_path: Path
) -> None:
    url = backend.url_on_port(free_port)
    with pytest.raises(GraphUnavailable) as caught:
        await open_store(tmp_path, url, **backend.options)
    assert "unreachable" in str(caught.value)
