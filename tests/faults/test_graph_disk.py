"""A full disk under the graph: writes answer GRAPH_UNAVAILABLE (never an internal error),
nothing acknowledged is lost, and freeing space restores service without a hand step."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from hub.app import create_app
from hub.settings import Settings
from tests.faults.graph_support import UPSERT, writer_token
from tests.live import fill_disk

TMPFS_SIZE = "24m"


def _mount_tmpfs(target: Path) -> str | None:
    """Mount a small tmpfs on ``target``; the reason it cannot be done, else None."""
    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs as a full disk"
    if shutil.which("mount") is None:
        return "no mount command"
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    return None if result.returncode == 0 else f"mount -t tmpfs failed: {result.stderr.strip()}"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="c360d-", dir="/tmp") as d:
        disk = Path(d)
        reason = _mount_tmpfs(disk)
        if reason:
            pytest.skip(reason)
        try:
            yield disk
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
async def hub(
    small_disk: Path, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, str, FalkorDBStore, EmbeddedFalkorDB]]:
    # The graph on the small disk; keys and the audit log elsewhere, so only the graph fails.
    embedded = EmbeddedFalkorDB(small_disk)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    await store.setup_schema()
    app = create_app(Settings(data_dir=tmp_path), store=store)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                yield client, writer_token(tmp_path), store, embedded
    finally:
        await store.close()


async def _upsert(client: httpx.AsyncClient, token: str, customer_id: str) -> str:
    response = await client.post(
        "/graphql",
        json={"query": UPSERT, "variables": {"input": {"id": customer_id, "name": "满"}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return "ok"


async def test_full_graph_disk_is_graph_unavailable_and_loses_nothing(
    hub: tuple[httpx.AsyncClient, str, FalkorDBStore, EmbeddedFalkorDB], small_disk: Path
) -> None:
    client, token, store, embedded = hub
    acked = [f"d{i}" for i in range(50) if await _upsert(client, token, f"d{i}") == "ok"]
    assert len(acked) == 50
    filler = fill_disk(small_disk)
    codes = []
    for i in range(40):
        code = await _upsert(client, token, f"full{i}")
        codes.append(code)
        if code == "ok":
            acked.append(f"full{i}")
        elif code == "GRAPH_UNAVAILABLE":
            break
    print("codes on a full disk:", codes)
    assert "GRAPH_UNAVAILABLE" in codes, codes
    assert "INTERNAL_SERVER_ERROR" not in codes, codes
    filler.unlink()  # space is back: writes are taken again, without a hand step
    for _attempt in range(300):
        if await _upsert(client, token, "after") == "ok":
            acked.append("after")
            break
        await asyncio.sleep(0.1)
    assert acked[-1] == "after", "writes not taken again after freeing space"
    # A crash now must not lose anything that was acknowledged.
    pid = embedded.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    for _attempt in range(300):
        try:
            rows = await store.read(
                "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN count(c) AS n",
                {"ids": acked},
            )
            break
        except Exception:
            await asyncio.sleep(0.1)
    assert rows[0]["n"] == len(acked), "an acknowledged write was lost"
