"""`c360 audit verify` of a read-only copy of a data dir (a forensic copy, read-only media):
it reads only, so it must not refuse "not writable" (QA: it did), nor create anything."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from graph.store import GraphStore
from hub.cli import app as cli
from tests.faults.ops_hub import UPSERT, Caller, codes, hub_client
from tests.live import read_only_view


def _files(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")}


async def test_audit_verify_checks_a_read_only_copy(store: GraphStore, data_dir: Path) -> None:
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        for i in range(3):
            body = await agent.gql(UPSERT, {"input": {"id": f"v-{i}", "name": "赵敏"}})
            assert codes(body) == [], body
    env = {"C360_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    signed = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "checkpoint"], env=env)
    assert signed.exit_code == 0, signed.output
    before = _files(data_dir)
    with (
        tempfile.TemporaryDirectory(prefix="c360ro-", dir="/tmp") as d,
        read_only_view(data_dir, Path(d) / "copy") as copy,
    ):
        verified = await asyncio.to_thread(
            CliRunner().invoke, cli, ["audit", "verify"], env={**env, "C360_DATA_DIR": str(copy)}
        )
    assert verified.exit_code == 0, verified.output
    assert "OK " in verified.output and "OK checkpoint" in verified.output, verified.output
    assert _files(data_dir) == before
