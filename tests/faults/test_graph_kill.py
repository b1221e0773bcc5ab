"""kill -9 of the embedded FalkorDB child under concurrent writes: one server afterwards,
serving again, and every acknowledged write still there."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from graph.embedded import RESTART_BACKOFF_S, EmbeddedFalkorDB
from graph.errors import GraphError, GraphUnavailable
from graph.falkordb import FalkorDBStore
from graph.repositories.customers import upsert_customers
from tests.faults.graph_support import redis_servers, wait_for

WRITERS = 8


async def _writer(store: FalkorDBStore, name: str, acked: list[str], stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        customer_id = f"{name}-{n}"
        n += 1
        try:
            await upsert_customers(store, [{"id": customer_id, "props": {"name": "持久"}}])
        except GraphUnavailable:
            await asyncio.sleep(0.05)  # a client retrying later
            continue
        acked.append(customer_id)


async def test_kill9_child_under_writes_one_server_nothing_lost(short_dir: Path) -> None:
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    acked: list[str] = []
    stop = asyncio.Event()
    writers = [asyncio.create_task(_writer(store, f"w{i}", acked, stop)) for i in range(WRITERS)]
    try:
        while len(acked) < 200:
            await asyncio.sleep(0.02)
        victim = embedded.server_pid()
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed_at, acked_at_kill = time.monotonic(), len(acked)
        # Served again: new writes are acknowledged after the kill.
        while len(acked) < acked_at_kill + 200:
            assert time.monotonic() - killed_at < 60, "not serving again within 60s"
            await asyncio.sleep(0.02)
        print(f"serving again {time.monotonic() - killed_at:.2f}s after kill -9")
    finally:
        stop.set()
        await asyncio.gather(*writers)
    try:
        servers = redis_servers(embedded.socket_path)
        assert servers == [embedded.server_pid()], f"servers for this data dir: {servers}"
        assert victim not in servers
        rows = await store.read(
            "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN count(c) AS n", {"ids": acked}
        )
        if rows[0]["n"] != len(acked):
            found = await store.read(
                "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN c.id AS id", {"ids": acked}
            )
            missing = sorted(set(acked) - {r["id"] for r in found})
            keep = Path(tempfile.mkdtemp(prefix="durable-fail-", dir="/tmp"))
            shutil.copytree(short_dir, keep / "data", ignore=shutil.ignore_patterns("*.sock"))
            (keep / "missing.txt").write_text(
                f"victim {victim} acked_at_kill {acked_at_kill}\n"
                + "\n".join(f"{acked.index(m)} {m}" for m in missing)
            )
            pytest.fail(f"acknowledged writes lost: {missing}; kept in {keep}")
    finally:
        await store.close()
    assert redis_servers(embedded.socket_path) == []


async def test_copied_data_dir_leaves_the_original_serving(short_dir: Path) -> None:
    original_dir, copy_dir = short_dir / "a", short_dir / "b"
    original = await asyncio.to_thread(FalkorDBStore.embedded, EmbeddedFalkorDB(original_dir))
    try:
        await upsert_customers(original, [{"id": "K1", "props": {"name": "原"}}])
        original_pid = EmbeddedFalkorDB(original_dir).server_pid()
        # cp -a of the live dir: pid file, lock file, socket file and logs all come along.
        proc = await asyncio.create_subprocess_exec("cp", "-a", str(original_dir), str(copy_dir))
        assert await proc.wait() == 0
        copy_embedded = EmbeddedFalkorDB(copy_dir)
        assert copy_embedded.server_pid() is None, "the copy claims the original's server"
        copy = await asyncio.to_thread(FalkorDBStore.embedded, copy_embedded)
        try:
            assert copy_embedded.owner
            assert copy_embedded.server_pid() not in (None, original_pid)
            await upsert_customers(copy, [{"id": "K2", "props": {"name": "副本"}}])
            assert await copy.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id") == [
                {"id": "K1"},
                {"id": "K2"},
            ]
        finally:
            await copy.close()
        # The original's server was never signalled: same pid, still serving its own data.
        assert redis_servers(original_dir / "falkordb" / "falkordb.sock") == [original_pid]
        rows = await original.read("MATCH (c:Customer) RETURN c.id AS id")
        assert rows == [{"id": "K1"}]
    finally:
        await original.close()


async def test_child_killed_right_after_a_restart_comes_back_without_a_request(
    short_dir: Path,
) -> None:
    """The replacement dies while starting: the owner starts another after the pause by
    itself. Only the store's health call (what /readyz asks) runs meanwhile, never ensure()."""
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        first = embedded.server_pid()
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await asyncio.to_thread(
            wait_for,
            lambda: [p for p in redis_servers(embedded.socket_path) if p != first] != [],
            10,
            "a replacement server",
        )
        second = next(p for p in redis_servers(embedded.socket_path) if p != first)
        os.kill(second, signal.SIGKILL)  # well within RESTART_BACKOFF_S of its start
        began = time.monotonic()
        while True:
            try:
                await store.ping()
                break
            except GraphError:
                # 6x the pause: without a retry of its own the owner never starts one.
                assert time.monotonic() - began < 6 * RESTART_BACKOFF_S, (
                    f"no server {time.monotonic() - began:.1f}s after the second kill; "
                    f"servers: {redis_servers(embedded.socket_path)}"
                )
                await asyncio.sleep(0.2)
        servers = redis_servers(embedded.socket_path)
        assert len(servers) == 1 and servers[0] not in (first, second), servers
        print(f"serving again {time.monotonic() - began:.2f}s after the second kill")
    finally:
        await store.close()
    assert redis_servers(embedded.socket_path) == []
