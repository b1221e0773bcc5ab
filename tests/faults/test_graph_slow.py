"""A graph server that answers late (a big write under load, a paused process) is waited for,
not given up on: every round trip in flight gets its answer, sent once, and none of them
closes another's connection. redis-py's default 5 s socket deadline used to fail the slow
one, and the store's retry then closed every connection in use: a seed lost its graph
("Error UNKNOWN while writing to socket. Connection lost")."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from graph.repositories.customers import upsert_customers
from hub.app import READY_PING_S, create_app
from hub.settings import Settings
from tests.server_client import server_client

PAUSE_S = 6.5  # longer than redis-py's default socket timeout (5 s)
READS, WRITES = 6, 3


def _calls(sock: Path) -> dict[str, int]:
    """Commands the server has run since the last CONFIG RESETSTAT, by name."""
    with server_client(sock, decode_responses=True) as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


async def test_round_trips_wait_for_a_paused_server(short_dir: Path) -> None:
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        await upsert_customers(store, [{"id": f"C{i}", "props": {"name": "慢"}} for i in range(50)])
        count = "MATCH (c:Customer) RETURN count(c) AS n"
        await store.read(count)  # connections and property keys in place before the pause
        with server_client(embedded.socket_path) as client:
            client.config_resetstat()
        pid = embedded.server_pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            reads = [asyncio.create_task(store.read(count)) for _ in range(READS)]
            writes = [
                asyncio.create_task(
                    upsert_customers(store, [{"id": f"W{i}", "props": {"name": "晚"}}])
                )
                for i in range(WRITES)
            ]
            await asyncio.sleep(PAUSE_S)
        finally:
            os.kill(pid, signal.SIGCONT)
        answers = await asyncio.wait_for(asyncio.gather(*reads, *writes), 60)
        for rows in answers[:READS]:
            assert rows[0]["n"] in range(50, 50 + WRITES + 1)
        assert (await store.read(count))[0]["n"] == 50 + WRITES
        calls = _calls(embedded.socket_path)
        # Each round trip reached the server once: none was failed and sent again.
        assert calls.get("graph.RO_QUERY", 0) == READS + 1, calls
        assert calls.get("graph.QUERY", 0) == WRITES, calls
    finally:
        await store.close()


async def test_readyz_says_unresponsive_when_the_graph_server_is_paused(short_dir: Path) -> None:
    """A paused graph server accepts connections and answers nothing: /readyz says so within
    its deadline (503), /healthz still answers, and readiness comes back with the server."""
    app = create_app(Settings(data_dir=short_dir))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert (await client.get("/readyz")).status_code == 200
            pid = EmbeddedFalkorDB(short_dir).server_pid()
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                ready = await client.get("/readyz", timeout=30)
                waited = time.monotonic() - started
                assert (await client.get("/healthz")).status_code == 200
            finally:
                os.kill(pid, signal.SIGCONT)
            assert ready.status_code == 503 and ready.json()["graph"].startswith("unresponsive")
            assert waited < READY_PING_S + 5, waited  # its own deadline, not the client's
            deadline = time.monotonic() + 30
            while (await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "never ready again"
                await asyncio.sleep(0.2)
