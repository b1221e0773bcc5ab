"""Choose and open the GraphStore backend named by ``C360_GRAPH_URL``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from graph.errors import GraphUnavailable
from graph.repositories.customers import ID_KEYS_VERSION, backfill_id_keys
from graph.repositories.social import (
    POSTS_UPGRADE_VERSION,
    backfill_search_text,
    upgrade_stored_posts,
)
from graph.store import SCHEMA_LABEL, GraphStore
from shared.post_text import SEARCH_TEXT_VERSION
from shared.service_urls import FALKOR_SCHEMES, NEO4J_SCHEMES, graph_url_problem


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
    upgrade: bool = True,
    more_upgrades: Sequence[Upgrade] = (),
) -> GraphStore:
    """Open the backend for ``url`` (empty: the embedded FalkorDB in ``data_dir``), set up
    its schema and bring what it stores to this version (:func:`run_upgrades`, with
    ``more_upgrades``; not ``upgrade``: a dry run, which writes nothing); the server stops a
    read after ``read_timeout_s`` (None: batch jobs, no limit). Raises GraphUnavailable with
    a sentence a person can act on."""
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
        raise GraphUnavailable(f"C360_GRAPH_URL {url!r} {graph_url_problem(url)}")
    try:
        await store.setup_schema()
        if upgrade:
            # Batch jobs of their own: before the limit applies.
            await run_upgrades(store, more_upgrades)
        store.read_timeout_s = read_timeout_s
    except BaseException:
        await store.close()
        raise
    return store


# The open-time upgrades: the property of the graph's marker node (one ``:C360Schema {key:
# 'upgrades'}``) that records the version each brought the stored data to, that version, and
# the upgrade. Each is idempotent: one cut off is run again at the next open, as is one two
# processes opening the graph at once both run.
Upgrade = tuple[str, int, Callable[[GraphStore], Awaitable[int]]]
UPGRADES: tuple[Upgrade, ...] = (
    ("searchTextVersion", SEARCH_TEXT_VERSION, backfill_search_text),
    ("postsUpgrade", POSTS_UPGRADE_VERSION, upgrade_stored_posts),
    ("idKeys", ID_KEYS_VERSION, backfill_id_keys),
)
UPGRADES_KEY = "upgrades"


async def run_upgrades(store: GraphStore, more: Sequence[Upgrade] = ()) -> list[str]:
    """Run the open-time upgrades (:data:`UPGRADES`, then ``more``: those of layers above
    the graph, which the hub passes in, e.g. ingest.social.retag's) the graph's marker does
    not record as current, each recorded there once it finished; the names of those run.
    One read when all are current (each upgrade walks every post or customer, even with
    nothing to do). A graph holding no node has nothing to upgrade and is left without a
    marker (a bulk import wants it empty). The marker travels with the data: a backup
    restored, a graph copied by ``c360 migrate``."""
    rows = await store.read(
        f"MATCH (s:{SCHEMA_LABEL} {{key: $key}}) RETURN properties(s) AS marks",
        {"key": UPGRADES_KEY},
    )
    if not rows and not await store.read("MATCH (n) RETURN 1 AS one LIMIT 1"):
        return []
    marks = rows[0]["marks"] if rows else {}
    ran = []
    for name, version, upgrade in (*UPGRADES, *more):
        if isinstance(marks.get(name), int) and marks[name] >= version:
            continue
        await upgrade(store)
        await store.write(
            f"MERGE (s:{SCHEMA_LABEL} {{key: $key}}) SET s += $marks",
            {"key": UPGRADES_KEY, "marks": {name: version}},
        )
        ran.append(name)
    return ran


@asynccontextmanager
async def store_session(data_dir: Path, url: str = "", **kwargs: Any) -> AsyncIterator[GraphStore]:
    store = await open_store(data_dir, url, **kwargs)
    try:
        yield store
    finally:
        await store.close()
