"""A query whose client disconnects is stopped, and audited as cut off (README "The audit
log"): a bank's frontends and load balancers abandon slow requests, and the hub ran them to
their end (graph reads, policy decisions) for no one. A write is not stopped: it runs on and is
recorded as usual.

The hub under uvicorn on a real port, a client on a real socket; the request is slow because
the hub's embedded graph server is paused (SIGSTOP), and its deadline is far off, so while the
graph stays paused only the client's going can end it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph.falkordb import FalkorDBStore
from graph.repositories.customers import upsert_customers
from hub.app import create_app
from hub.http_protocol import PROTOCOL
from hub.logs import FIELDS
from hub.settings import Settings
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.faults.test_timeout_audit import CUSTOMER, SAVE, VIEW, PausedHub
from tests.live import free_port, uvicorn_in_loop

TIMEOUT_S = 600.0  # the deadline: far beyond any wait below
WAIT_S = 60.0  # how long a wait for what must happen may take on a loaded machine


@dataclass
class Served(PausedHub):
    host: str
    port: int

    async def send_and_leave(self, query: str, request_id: str, **variables: Any) -> None:
        """POST ``query`` on a socket of its own, wait until the hub is reading the graph for
        it (the graph is paused: the read waits), then close the socket unanswered."""
        before = self.reads_waiting()
        body = json.dumps({"query": query, "variables": variables}).encode()
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: Bearer {self.token}\r\nX-Request-Id: {request_id}\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(head.encode() + body)
        await writer.drain()
        await until(lambda: self.reads_waiting() > before, f"{request_id} reading the graph")
        assert not reader.at_eof()  # unanswered so far
        writer.close()
        await writer.wait_closed()

    def reads(self) -> list[asyncio.Future[Any]]:
        """The graph reads sent on this loop whose replies have not come (the graph is
        paused): a read the hub stopped waiting for is cancelled."""
        store = self.app.state.graph.store
        assert isinstance(store, FalkorDBStore) and store._threads.loop_reads is not None
        pool = store._threads.loop_reads._pools.get(asyncio.get_running_loop())
        return [f for c in (pool.connections if pool else []) for f in c._waiting]

    def reads_waiting(self) -> int:
        return sum(not f.done() for f in self.reads())


async def until(condition: Callable[[], object], what: str) -> None:
    """Wait (polling) until ``condition()`` holds; fail naming ``what`` after WAIT_S."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > WAIT_S:
            raise AssertionError(f"not within {WAIT_S:.0f} s: {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def served(data_dir: Path) -> AsyncIterator[Served]:
    """The real app (its own embedded graph, audit log and policies) under uvicorn with the
    hub's HTTP protocol, one customer stored, and a service agent's token."""
    app = create_app(Settings(data_dir=data_dir, request_timeout_s=TIMEOUT_S))
    port = free_port()
    async with uvicorn_in_loop(app, port, http=PROTOCOL):
        await app.state.graph.open()
        await upsert_customers(app.state.graph.store, [{"id": CUSTOMER, "props": {"name": "Ada"}}])
        key = load_or_create_secret(data_dir, "jwt")
        token = issue_token(key, "sa1", ["service_agent"], purpose="service")
        yield Served(app, token, data_dir, "127.0.0.1", port)


async def test_a_query_whose_client_disconnects_is_stopped_and_audited(
    short_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="c360.request")
    async with served(short_dir) as s:
        with s.graph_paused():
            await s.send_and_leave(VIEW, "view-gone")
            # The graph is still paused and the deadline far off: the record can only come
            # from the request being stopped when its client went.
            await until(lambda: s.records("view-gone"), "the record of the stopped query")
            # Nothing of it waits on the graph any more: its reads were given up.
            assert s.reads() and s.reads_waiting() == 0
        [record] = s.records("view-gone")
        assert record["outcome"] == "error"
        assert record["details"] == {"cut_off": "client_disconnected"}
        assert (record["subject"], record["operation"]) == ("sa1", "View")
        assert record["customer_ids"] == [CUSTOMER]
        assert "view-gone" in [r["request_id"] for r in s.audit().read(customer=CUSTOMER)]
        assert s.audit().verify().ok
        # The request log's one line says so: 499, the client's own doing. (Written once the
        # record is durable, as the cancellation leaves the request.)
        await until(
            lambda: [r for r in caplog.records if r.name == "c360.request"], "the request log line"
        )
        [line] = [r for r in caplog.records if r.name == "c360.request"]
        fields = getattr(line, FIELDS)
        assert (line.levelname, fields["status"], fields["outcome"]) == (
            "WARNING",
            499,
            "client_disconnected",
        )
        assert line.getMessage() == "client disconnected before its answer: its query was stopped"


async def test_a_write_whose_client_disconnects_runs_to_its_end(short_dir: Path) -> None:
    async with served(short_dir) as s:
        with s.graph_paused():
            await s.send_and_leave(SAVE, "save-gone", input={"id": "C000078", "name": "Bo"})
            # A query left after the write's client: once it is stopped, the server has seen
            # both disconnects.
            await s.send_and_leave(VIEW, "view-gone")
            await until(lambda: s.records("view-gone"), "the record of the stopped query")
            assert s.records("save-gone") == []  # still waiting on the graph, not stopped
        # The graph answers: the write goes on, is recorded as usual, and is stored.
        await until(lambda: len(s.records("save-gone")) == 2, "the write's intent and record")
        intent, done = s.records("save-gone")
        assert (intent["outcome"], done["outcome"]) == ("intent", "ok")
        assert "cut_off" not in done["details"]
        rows = await s.app.state.graph.store.read(
            "MATCH (c:Customer {id: $id}) RETURN c.id AS id", {"id": "C000078"}
        )
        assert rows == [{"id": "C000078"}]
