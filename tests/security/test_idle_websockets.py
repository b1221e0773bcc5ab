"""Idle websockets cannot lock everyone out (QA, session 19): a real `c360 serve` with
--max-connections, filled with websockets that never send connection_init. Before, they
counted towards the cap without ever being evictable: /readyz got "connection closed". Now the
oldest socket that has not authenticated is closed 4408 to make room; an authenticated one
stays. A message over C360_MAX_BODY_BYTES closes its socket 1009."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hub.http_protocol import EVICTED, NOT_INITIALISED
from tests.api.test_subscriptions import PROTOCOL, open_client
from tests.live import free_port, stop, wait_ready

CAP = 6
MAX_BODY = 50_000


@pytest.fixture
def capped_hub() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="c360w-", dir="/tmp") as d:
        data_dir, log_path, port = Path(d) / "data", Path(d) / "server.log", free_port()
        # A long init timeout: what closes the idle sockets here is the cap, not the timer.
        env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": "",
               "C360_WS_INIT_TIMEOUT_S": "300", "C360_MAX_BODY_BYTES": str(MAX_BODY)}  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve",
                 "--host", "127.0.0.1", "--port", str(port), "--max-connections", str(CAP)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                wait_ready(url, process, 120.0, log_tail=lambda: log_path.read_text()[-3000:])
                yield url, data_dir
            finally:
                stop(process)


def token(data_dir: Path) -> str:
    env = {**os.environ, "C360_DATA_DIR": str(data_dir)}
    args = ["token", "--sub", "ba1", "--role", "brand_analyst", "--purpose", "marketing"]
    out = subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", *args],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


async def idle(host: str) -> ClientConnection:
    return await connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]


async def evicted(ws: ClientConnection) -> None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None, closed.value
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (NOT_INITIALISED, EVICTED)


async def test_idle_websockets_are_evicted_at_the_cap_and_authenticated_ones_stay(
    capped_hub: tuple[str, Path],
) -> None:
    url, data_dir = capped_hub
    host = url.removeprefix("http://")
    client = await open_client(host, token(data_dir))
    sockets = [await idle(host) for _ in range(CAP - 1)]  # the cap is reached
    async with httpx.AsyncClient() as http:
        # A new connection takes the place of the oldest idle socket...
        response = await http.get(url + "/readyz", headers={"Connection": "close"})
        assert response.status_code == 200
        await evicted(sockets[0])
        # ...as a new websocket does: these push out the rest, and then each other.
        more = [await idle(host) for _ in range(CAP)]
        response = await http.get(url + "/readyz", headers={"Connection": "close"})
        assert response.status_code == 200
    for ws in sockets[1:] + more[:2]:
        await evicted(ws)
    # The authenticated socket was never a candidate: it still answers.
    await client.ws.send(json.dumps({"type": "ping"}))
    assert await client.receive() == {"type": "pong"}
    # `c360 serve` holds a message to C360_MAX_BODY_BYTES (uvicorn's default: 16 MiB), counted
    # after permessage-deflate: these comments are a few hundred bytes on the wire.
    huge = "#" + "x" * MAX_BODY + "\nsubscription { mentionAdded { postId } }"
    await client.ws.send(json.dumps({"id": "big", "type": "subscribe", "payload": {"query": huge}}))
    with pytest.raises(ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
