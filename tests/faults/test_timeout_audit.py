"""A request cut off by its deadline (C360_REQUEST_TIMEOUT_S) is audited: QA found a service
agent's read of a customer, answered 504 TIMEOUT while the graph server was paused, missing
from the audit log (an attempt is audited, README "The audit log").

The graph server is the hub's own embedded FalkorDB, paused with SIGSTOP: a read of it waits
for as long as the pause lasts, so the request's deadline passes every time."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graph.embedded import EmbeddedFalkorDB
from graph.repositories.customers import upsert_customers
from hub.app import create_app
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.faults.test_audit_disk import file_size_limit

TIMEOUT_S = 1.0
CUSTOMER = "C000077"
READ = 'query { customer(id: "C000077") { id name } }'
# Enough of the 360 view that its parts are read before the customer is decided
# (resolvers/prefetch360.py): the read the deadline cuts off is that projection's.
VIEW = (
    'query View { customer(id: "C000077") { id name accounts { id } household { id } '
    "advisor { id } relatedCustomers { kind } } }"
)
SAVE = "mutation Save($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"


@dataclass
class PausedHub:
    """The real app with its own embedded graph server, which a test can pause (SIGSTOP) so
    that its reads wait; and the audit records of a request."""

    app: Starlette
    token: str
    data_dir: Path

    def audit(self) -> AuditLog:
        audit = self.app.state.privacy.services.audit
        assert isinstance(audit, AuditLog)
        return audit

    def records(self, request_id: str) -> list[dict[str, Any]]:
        return [r for r in self.audit().read() if r["request_id"] == request_id]

    @contextmanager
    def graph_paused(self) -> Iterator[None]:
        pid = EmbeddedFalkorDB(self.data_dir).server_pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)


@dataclass
class Hub(PausedHub):
    client: httpx.AsyncClient

    async def post(self, query: str, request_id: str, **variables: Any) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}", "X-Request-Id": request_id},
            timeout=60,
        )


@asynccontextmanager
async def hub(data_dir: Path) -> AsyncIterator[Hub]:
    """The real app (its own embedded graph, audit log and policies) with a 1 s deadline, one
    customer stored, and a service agent's token."""
    app = create_app(Settings(data_dir=data_dir, request_timeout_s=TIMEOUT_S))
    async with app.router.lifespan_context(app):
        await app.state.graph.open()
        await upsert_customers(app.state.graph.store, [{"id": CUSTOMER, "props": {"name": "Ada"}}])
        key = load_or_create_secret(data_dir, "jwt")
        token = issue_token(key, "sa1", ["service_agent"], purpose="service")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Hub(app, token, data_dir, client)


def timed_out(response: httpx.Response) -> bool:
    codes = [e["extensions"]["code"] for e in response.json().get("errors") or []]
    return response.status_code == 504 and codes == ["TIMEOUT"]


@pytest.mark.parametrize(("query", "operation"), [(READ, "query"), (VIEW, "View")])
async def test_a_read_cut_off_by_the_deadline_is_audited(
    short_dir: Path, query: str, operation: str
) -> None:
    async with hub(short_dir) as h:
        answered = await h.post(query, "read-ok")  # the same read, the graph answering
        assert (answered.json()["data"] or {}).get("customer", {}).get("name") == "Ada", (
            answered.text
        )
        with h.graph_paused():
            response = await h.post(query, "read-cut")
        assert timed_out(response), response.text
        [record] = h.records("read-cut")
        assert record["outcome"] == "error"
        assert record["details"] == {"cut_off": "timeout"}
        assert (record["subject"], record["roles"], record["purpose"]) == (
            "sa1",
            ["service_agent"],
            "service",
        )
        assert record["operation"] == operation
        assert record["customer_ids"] == [CUSTOMER]
        assert record["fields"] == {CUSTOMER: {"revealed": [], "masked": []}}  # none read
        # Found the way an auditor or the data subject's export looks: by the customer.
        assert "read-cut" in [r["request_id"] for r in h.audit().read(customer=CUSTOMER)]
        assert h.audit().verify().ok


async def test_a_write_cut_off_by_the_deadline_is_audited(short_dir: Path) -> None:
    async with hub(short_dir) as h:
        with h.graph_paused():
            response = await h.post(SAVE, "save-cut", input={"id": "C000078", "name": "Bo"})
        assert timed_out(response), response.text
        [record] = h.records("save-cut")
        assert record["operation"] == "Save"
        assert record["outcome"] == "error" and record["details"] == {"cut_off": "timeout"}
        assert record["subject"] == "sa1" and record["customer_ids"] == ["C000078"]


async def test_a_log_that_cannot_take_the_record_leaves_the_answer_a_timeout(
    short_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="c360.audit")
    async with hub(short_dir) as h:
        assert (await h.post(READ, "read-ok")).status_code == 200
        log_path = h.audit().path
        size = log_path.stat().st_size
        # The log cannot grow (a full disk at its end): the record fails, the answer does not
        # change (no data either way) and nothing torn stays behind.
        with file_size_limit(size), h.graph_paused():
            response = await h.post(READ, "read-cut")
        assert timed_out(response), response.text
        assert log_path.stat().st_size == size
        missing = [
            r.getMessage() for r in caplog.records if "cut off is not written" in r.getMessage()
        ]
        assert len(missing) == 1, missing
        # The next request's record goes in (with the repair of the cut, if any).
        assert (await h.post(READ, "read-after")).status_code == 200
        assert h.records("read-cut") == [] and len(h.records("read-after")) == 1
        assert h.audit().verify().ok
