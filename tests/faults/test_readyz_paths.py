"""/readyz answers anyone: its reasons name files, never the server's paths (they stay in the
hub log, where the operator reads them)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from graph.connect import open_store
from hub.app import create_app, without_paths
from hub.settings import Settings


async def test_a_graph_that_does_not_start_is_named_without_its_path(
    short_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = short_dir
    caplog.set_level(logging.WARNING, logger="c360")
    store = await open_store(data_dir)
    try:
        await store.write("MERGE (:Customer {id: 'p-1'})")
    finally:
        await store.close()
    # A manifest the server cannot parse: it exits at once, its log names why.
    (data_dir / "falkordb" / "appendonlydir" / "appendonly.aof.manifest").write_text("junk\n")
    app = create_app(Settings(data_dir=data_dir, graph_url=""))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert "falkordb.log" in ready.text and str(data_dir) not in ready.text, ready.text
    assert any(str(data_dir) in r.getMessage() for r in caplog.records)


def test_without_paths_keeps_file_names_and_urls() -> None:
    assert (
        without_paths("exited; see /srv/c360/falkordb/falkordb.log") == "exited; see falkordb.log"
    )
    assert without_paths("refused: http://opa:8181/v1/data") == "refused: http://opa:8181/v1/data"
    assert without_paths("a/b relative") == "a/b relative"
