"""QA, session 26: when the graph's start-up step failed (``serve --demo`` seeding the demo book
with a bad ``C360_DEMO_AS_OF``) the hub logged it and said ready, with an empty book and demo
tokens handed out for it. A start-up step that fails leaves the hub not ready, saying why."""

from __future__ import annotations

import os
from pathlib import Path

from graph.embedded import EmbeddedFalkorDB
from graph.store import GraphStore
from hub.app import GraphHolder
from hub.settings import Settings


async def test_a_failed_start_up_step_leaves_the_graph_not_ready(
    session_store: GraphStore, session_data_dir: Path, data_dir: Path
) -> None:
    url = os.environ.get("C360_TEST_GRAPH_URL") or (
        f"unix://{EmbeddedFalkorDB(session_data_dir).socket_path}"
    )
    steps: list[GraphStore] = []

    async def seed_that_fails(store: GraphStore) -> None:
        steps.append(store)
        raise ValueError("month must be in 1..12")

    holder = GraphHolder(Settings(data_dir=data_dir, graph_url=url), on_open=seed_that_fails)
    try:
        await holder.open()
        assert holder.store is None
        assert "start-up step failed: month must be in 1..12; fix it and restart" in holder.error
        assert await holder.get() is None  # what failed so is not run again until a restart
        assert len(steps) == 1
    finally:
        await holder.close()
