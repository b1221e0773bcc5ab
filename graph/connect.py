"""Choose and open the GraphStore backend named by ``C360_GRAPH_URL``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from graph.errors import GraphUnavailable
from graph.repositories.customers import backfill_id_keys
from graph.repositories.social import backfill_search_text, upgrade_stored_posts
from graph.store import GraphStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
FALKOR_SCHEMES = ("redis://", "rediss://", "falkor://", "falkors://", "unix://")


async def open_store(
    data_dir: Path,
    url: str = "",
    *,
    graph_name: str = "c360",
    pool_size: int = 16,
    user: str = "neo4j",
    password: str = "",
    database: str = "neo4j",
    read_timeout_s: float | None = None,
) -> GraphStore:
    """Open the backend for ``url`` (empty: the embedded FalkorDB in ``data_dir``) and set up
    its schema; the server stops a read after ``read_timeout_s`` (None: batch jobs, no limit).
    Raises GraphUnavailable with a sentence a person can act on."""
    store: GraphStore
    if not url:
        from graph.embedded import EmbeddedFalkorDB
        from graph.falkordb import FalkorDBStore

        embedded = EmbeddedFalkorDB(data_dir)
        try:
            store = await asyncio.to_thread(FalkorDBStore.embedded, embedded, graph_name, pool_size)
        except asyncio.CancelledError:
            # The starting thread cannot be interrupted; stopping the server makes it give up
            # (nothing left running, no lock held).
            await asyncio.shield(asyncio.to_thread(embedded.stop))
            raise
    elif url.startswith(FALKOR_SCHEMES):
        from graph.falkordb import FalkorDBStore

        store = FalkorDBStore.from_url(url, graph_name, pool_size)
    elif url.startswith(NEO4J_SCHEMES):
        from graph.neo4j import Neo4jStore

        store = Neo4jStore(
            url, user=user, password=password, database=database, pool_size=pool_size
        )
    else:
        raise GraphUnavailable(
            f"C360_GRAPH_URL {url!r} has an unknown scheme; use bolt:// or neo4j:// for Neo4j, "
            "redis:// for a FalkorDB server, or leave it empty for the embedded graph"
        )
    try:
        await store.setup_schema()
        await backfill_search_text(store)  # a batch job of its own: before the limit applies
        await upgrade_stored_posts(store)  # posts stored before ingest's current rules
        await backfill_id_keys(store)
        store.read_timeout_s = read_timeout_s
    except BaseException:
        await store.close()
        raise
    return store


@asynccontextmanager
async def store_session(data_dir: Path, url: str = "", **kwargs: Any) -> AsyncIterator[GraphStore]:
    store = await open_store(data_dir, url, **kwargs)
    try:
        yield store
    finally:
        await store.close()
