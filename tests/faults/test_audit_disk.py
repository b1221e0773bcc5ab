"""The audit log on a torn tail and on a full disk: healed by itself, never a stored write
answered AUDIT_UNAVAILABLE, service back as soon as space is freed; /readyz says when the log
cannot be written, and the hub log says why."""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import orjson
import pytest

from graph.store import GraphStore
from hub.audit_ready import LOW_FREE_BYTES, MIN_ROOM_BYTES
from privacy.audit import REPAIR_OPERATION, AuditLog
from privacy.keyring import KeyRing
from tests.faults.ops_hub import LOG, UPSERT, Caller, codes, hub_client, interactions_of
from tests.live import fill_disk

TMPFS_BYTES = 512 * 1024


@pytest.fixture
def tiny_audit_dir(data_dir: Path) -> Iterator[Path]:
    """``data_dir/audit`` on a 512 KB tmpfs of its own, so that filling it fills only it."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small tmpfs: mount needs root")
    audit = data_dir / "audit"
    audit.mkdir(mode=0o700)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES},mode=0700", "tmpfs", str(audit)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield audit
    finally:
        subprocess.run(["umount", "-l", str(audit)], check=False)


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """For this process, a write that would take a file past ``limit`` bytes is cut short there
    (then fails, EFBIG): a disk that is full at an exact byte, without root. Python ignores
    SIGXFSZ, so the writer sees the short write instead of dying. The graph server is another
    process and keeps writing."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@asynccontextmanager
async def agent_hub(
    store: GraphStore,
    data_dir: Path,
    customer_id: str,
    caplog: pytest.LogCaptureFixture | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, Caller]]:
    """A hub (its log captured into ``caplog``) and a service agent who has stored one
    customer, ``customer_id``."""
    if caplog is not None:
        caplog.set_level(logging.INFO, logger="c360")
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        assert codes(await agent.gql(UPSERT, {"input": {"id": customer_id, "name": "赵敏"}})) == []
        yield client, agent


def interaction(customer_id: str) -> dict[str, object]:
    return {"customerId": customer_id, "kind": "complaint", "channel": "phone", "summary": "x"}


async def test_a_torn_tail_is_cut_by_the_next_request_and_recorded(
    store: GraphStore, data_dir: Path
) -> None:
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        body = await agent.gql(UPSERT, {"input": {"id": "t-1", "name": "赵敏"}})
        assert codes(body) == []
        log_path = data_dir / "audit" / "audit.log"
        with log_path.open("ab") as f:
            f.write(b'{"seq":99,"ts":"2026-')  # what a short write leaves
        body = await agent.gql(LOG, {"input": interaction("t-1")})
        assert codes(body) == [], body
    audit = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    result = audit.verify()
    assert result.ok, result.reason
    [(seq, details)] = result.repairs
    assert details["cuts"][0]["truncated_bytes"] == len(b'{"seq":99,"ts":"2026-')
    assert audit.read()[seq - 1]["operation"] == REPAIR_OPERATION


async def test_a_full_audit_disk_stores_no_write_and_freeing_space_restores_service(
    store: GraphStore, data_dir: Path, tiny_audit_dir: Path
) -> None:
    async with agent_hub(store, data_dir, "f-1") as (_, agent):
        filler = fill_disk(tiny_audit_dir)

        # The log's last page may still hold a record or two; then the disk is full. Every
        # write answered AUDIT_UNAVAILABLE is absent from the graph; the others are stored.
        answered: list[list[str]] = []
        while answered.count(["AUDIT_UNAVAILABLE"]) < 3:
            assert len(answered) < 30, answered
            body = await agent.gql(LOG, {"input": interaction("f-1")})
            answered.append(codes(body))
        assert all(c in ([], ["AUDIT_UNAVAILABLE"], ["AUDIT_INCOMPLETE"]) for c in answered)
        applied = sum(c != ["AUDIT_UNAVAILABLE"] for c in answered)
        assert await interactions_of(store, "f-1") == applied
        read = await agent.gql('{ customer(id: "f-1") { id name } }')
        assert read["data"] is None and codes(read) == ["AUDIT_UNAVAILABLE"]

        filler.unlink()  # the only step an operator takes
        body = await agent.gql(LOG, {"input": interaction("f-1")})
        assert codes(body) == [], body
        assert await interactions_of(store, "f-1") == applied + 1
        read = await agent.gql('{ customer(id: "f-1") { id name } }')
        assert read["data"]["customer"]["id"] == "f-1"

    result = AuditLog(tiny_audit_dir, KeyRing.load(data_dir)).verify()
    assert result.ok, result.reason


async def test_a_write_whose_closing_record_fails_is_answered_audit_incomplete(
    store: GraphStore, data_dir: Path
) -> None:
    # The write-ahead intent record fits, the request's closing record does not: the write has
    # happened, so the answer must be AUDIT_INCOMPLETE (data withheld, "do not repeat"), never
    # AUDIT_UNAVAILABLE (which promises nothing was stored).
    log_path = data_dir / "audit" / "audit.log"
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        assert codes(await agent.gql(UPSERT, {"input": {"id": "i-1", "name": "赵敏"}})) == []
        before = log_path.stat().st_size
        assert codes(await agent.gql(LOG, {"input": interaction("i-1")})) == []
        intent, closing = log_path.read_bytes()[before:].splitlines(keepends=True)
        start = log_path.stat().st_size

        with file_size_limit(start + len(intent) + len(closing) // 2):
            body = await agent.gql(LOG, {"input": interaction("i-1")})
        assert body["data"] is None and codes(body) == ["AUDIT_INCOMPLETE"], body
        assert "do not repeat the write" in body["errors"][0]["message"]
        assert await interactions_of(store, "i-1") == 2  # applied, as the answer says
        # The intent record stayed; the torn closing record was cut back at once.
        assert start < log_path.stat().st_size < start + len(intent) + len(closing) // 2

        assert codes(await agent.gql(LOG, {"input": interaction("i-1")})) == []
    audit = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    result = audit.verify()
    assert result.ok, result.reason
    assert len(result.repairs) == 1  # the cut, recorded by the next append
    seq = intent_seq(log_path, start)
    [failed] = [r for r in audit.read() if r["seq"] == seq]
    assert failed["outcome"] == "intent" and failed["details"] == {"write": "Customer:i-1"}


def intent_seq(log_path: Path, offset: int) -> int:
    """The seq of the record that starts at ``offset`` of the log."""
    with log_path.open("rb") as f:
        f.seek(offset)
        return int(orjson.loads(f.readline())["seq"])


async def test_readyz_says_the_audit_log_cannot_be_written_and_the_log_says_why(
    store: GraphStore, data_dir: Path, tiny_audit_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # QA: /readyz answered 200 {"graph":"ok"} while every personal-data request failed, and
    # the log said "short write (908 of 1220 bytes)", never "no space left on device".
    async with agent_hub(store, data_dir, "r-1", caplog) as (client, agent):
        assert (await client.get("/readyz")).json() == {"graph": "ok"}

        filler = fill_disk(tiny_audit_dir)
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json() == {"audit": "cannot be written: no space left on device"}
        answered: list[list[str]] = []
        while ["AUDIT_UNAVAILABLE"] not in answered:
            assert len(answered) < 30, answered
            answered.append(codes(await agent.gql(LOG, {"input": interaction("r-1")})))
        failed = [r.getMessage() for r in caplog.records if "audit append failed" in r.msg]
        assert failed and all("No space left on device" in m for m in failed), failed

        filler.unlink()
        assert (await client.get("/readyz")).json() == {"graph": "ok"}

        # A read-only audit dir (a remount after disk errors, a restored copy): the same.
        subprocess.run(["mount", "-o", "remount,ro", str(tiny_audit_dir)], check=True)
        try:
            ready = await client.get("/readyz")
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(tiny_audit_dir)], check=True)
        assert ready.status_code == 503, ready.text
        assert ready.json() == {"audit": "cannot be written: read-only file system"}
        assert (await client.get("/readyz")).status_code == 200
    # The hub log names the directory; the public answers above do not.
    assert any(str(tiny_audit_dir) in r.getMessage() for r in caplog.records)


async def test_readyz_warns_of_low_free_space_while_appends_still_fit(
    store: GraphStore, data_dir: Path, tiny_audit_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # QA, session 22: with under 64 KiB free /readyz answered 503 "cannot be written: no space
    # left on device" while writes were still recorded and served.
    async with agent_hub(store, data_dir, "w-1", caplog) as (client, agent):
        free = shutil.disk_usage(tiny_audit_dir).free
        filler = tiny_audit_dir / "filler"
        filler.write_bytes(b"\0" * (free - LOW_FREE_BYTES // 2))  # 64 KiB left
        left = shutil.disk_usage(tiny_audit_dir).free
        assert MIN_ROOM_BYTES < left < LOW_FREE_BYTES, left

        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"graph": "ok", "audit": f"low free space: {left} bytes left"}
        # What the answer promises: the next write is recorded and served.
        assert codes(await agent.gql(LOG, {"input": interaction("w-1")})) == []
        assert await interactions_of(store, "w-1") == 1
        warned = [r.getMessage() for r in caplog.records if "low free space" in r.getMessage()]
        assert warned and "appends still fit" in warned[0], warned

        # Writes go on until one's records (or the index beside the log) take the last of it;
        # then, and only then, the log cannot take an append and /readyz says so.
        answered: list[list[str]] = []
        while ["AUDIT_UNAVAILABLE"] not in answered:
            assert len(answered) < 30, answered
            answered.append(codes(await agent.gql(LOG, {"input": interaction("w-1")})))
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json() == {"audit": "cannot be written: no space left on device"}

        filler.unlink()
        assert (await client.get("/readyz")).json() == {"graph": "ok"}


async def test_readyz_says_the_audit_log_cannot_be_opened_without_its_key_ring(
    store: GraphStore, data_dir: Path
) -> None:
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        assert codes(await agent.gql(UPSERT, {"input": {"id": "k-1", "name": "赵敏"}})) == []
    # A data dir restored without keys/: the hub makes a new ring, which opens no record.
    (data_dir / "keys" / "audit-keyring.json").unlink()
    async with hub_client(store, data_dir) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert set(ready.json()) == {"audit"} and "could not be opened" in ready.json()["audit"]
        agent = Caller(client, data_dir, "service_agent", "service")
        body = await agent.gql(UPSERT, {"input": {"id": "k-2", "name": "赵敏"}})
        assert codes(body) == ["AUDIT_UNAVAILABLE"], body


async def test_readyz_is_not_ready_when_the_index_beside_the_log_would_take_the_room(
    store: GraphStore, data_dir: Path, tiny_audit_dir: Path
) -> None:
    # Review, session 22: /readyz said ready down to 4 KiB of room, a request's two records,
    # while the audit index's write-ahead file beside the log grows by ~33 KB a request out of
    # the same free space: ready did not mean the next request fits.
    async with agent_hub(store, data_dir, "n-1") as (client, _):
        free = shutil.disk_usage(tiny_audit_dir).free
        filler = tiny_audit_dir / "filler"
        filler.write_bytes(b"\0" * (free - (16 << 10)))  # 16 KiB left: the records, not the WAL
        left = shutil.disk_usage(tiny_audit_dir).free
        assert 4 << 10 < left < 33_000, left
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json() == {"audit": "cannot be written: no space left on device"}
        filler.unlink()
        assert (await client.get("/readyz")).json() == {"graph": "ok"}
