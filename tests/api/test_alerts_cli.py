"""`c360 alerts dead | redeliver`: the dead letters listed, one re-sent as redeliverAlert does
(the policy's decision for the given role, audited, sent through the same checks)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from graph.connect import store_session
from graph.repositories import alert_rules as repo
from hub.cli import app as cli
from privacy.audit import AuditLog
from privacy.keyring import KeyRing

CHANNEL = "https://127.0.0.1:9/robot/send?access_token=t"  # nothing listens on port 9


@pytest.fixture
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360a-", dir="/tmp"))  # short: the graph's socket
    yield path / "d"
    shutil.rmtree(path, ignore_errors=True)


async def c360(data: Path, *args: str) -> Result:
    env = {
        "C360_DATA_DIR": str(data),
        "C360_ALERT_WEBHOOK_SECRET": "s3cret",
        "C360_ALERT_CHANNEL_ALLOW": "127.0.0.1",
        "COLUMNS": "200",
    }
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


async def test_the_cli_lists_and_re_sends_a_dead_letter(data: Path) -> None:
    data.mkdir(parents=True)
    async with store_session(data) as store:
        await repo.put_rule(store, "cmb", {
            "brand": "招商银行", "query": None, "threshold": 3.0, "baselineDays": 14,
            "minVolume": 10, "channels": [CHANNEL], "updatedBy": "b1",
            "updatedAt": "2025-01-01T00:00:00Z",
        })  # fmt: skip
        await repo.record_deliveries(store, [{
            "id": "d1", "ruleId": "cmb", "url": CHANNEL, "alertStart": "2025-03-15T00:00:00Z",
            "status": "DEAD", "attempts": 3, "lastError": "HTTP 500", "via": None,
            "at": "2025-03-16T00:00:00Z", "body": '{"msgtype": "text"}',
        }])  # fmt: skip

    listed = await c360(data, "alerts", "dead")
    assert listed.exit_code == 0, listed.output
    assert "d1" in listed.output and "HTTP 500" in listed.output
    assert "access_token" not in listed.output  # the channel's host only

    # An officer's role may read the rule, not act for it: refused by the policy, as over GraphQL.
    officer = await c360(data, "alerts", "redeliver", "d1", "--by", "po1",
                         "--role", "privacy_officer")  # fmt: skip
    assert officer.exit_code == 2 and "FORBIDDEN" in officer.output, officer.output

    sent = await c360(data, "alerts", "redeliver", "d1", "--by", "b1")
    assert sent.exit_code == 1, sent.output  # still dead: the channel is down
    assert "delivery d1: DEAD (6 attempt(s) in all): ConnectError" in sent.output

    async with store_session(data) as store:
        stored = await repo.delivery(store, "d1")
    assert stored is not None and (stored["redeliveredBy"], stored["attempts"]) == ("b1", 6)
    records = AuditLog(data / "audit", KeyRing.load(data)).read()
    ops = [(r["subject"], r["operation"], r["outcome"]) for r in records]
    assert ("po1", "cli alerts redeliver", "denied") in ops
    assert ("b1", "intent", "intent") in ops and ("b1", "cli alerts redeliver", "ok") in ops
