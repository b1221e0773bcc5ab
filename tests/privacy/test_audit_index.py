"""The audit index: filtered reads decrypt only matching records; it catches up, rebuilds
itself when missing or out of step with the log, and holds no subject or customer id."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from privacy.audit import AuditLog, make_record
from privacy.audit_index import INDEX_NAME
from privacy.keyring import KeyRing
from privacy.types import Principal

SUBJECTS = ("advisor-zhang-0001", "agent-li-0002")
CUSTOMERS = ("CUST-ALPHA-0001", "CUST-BRAVO-0002", "CUST-CHARLIE-0003")


def record(i: int) -> dict:
    who = Principal(SUBJECTS[i % 2], ("advisor",), "service")
    customer = CUSTOMERS[i % 3]
    return make_record(
        principal=who, operation=f"op{i}", outcome="denied" if i % 10 == 0 else "ok",
        customers={customer: {"revealed": ["name"], "masked": []}},
    )  # fmt: skip


def open_log(data_dir: Path) -> AuditLog:
    return AuditLog(data_dir / "audit", KeyRing.load(data_dir))


async def filled(data_dir: Path, n: int = 300) -> AuditLog:
    log = open_log(data_dir)
    for i in range(0, n, 50):  # batches of 50 share an fsync, in order
        await asyncio.gather(*(log.append(record(j)) for j in range(i, min(i + 50, n))))
    return log


def expected(n: int, customer: str | None = None, subject: str | None = None) -> list[int]:
    return [
        i + 1
        for i in range(n)
        if (customer is None or CUSTOMERS[i % 3] == customer)
        and (subject is None or SUBJECTS[i % 2] == subject)
    ]


async def test_a_filtered_read_decrypts_only_matching_records(data_dir: Path) -> None:
    log = await filled(data_dir)
    reader = open_log(data_dir)  # another instance (another process): nothing cached
    rows = reader.read(customer="CUST-BRAVO-0002")
    assert [r["seq"] for r in rows] == expected(300, customer="CUST-BRAVO-0002")
    assert reader.decrypted == len(rows) == 100  # not the 300 of a full scan

    before = reader.decrypted
    rows = reader.read(subject=SUBJECTS[1], customer=CUSTOMERS[0])
    assert [r["seq"] for r in rows] == expected(300, CUSTOMERS[0], SUBJECTS[1])
    assert reader.decrypted - before == len(rows) == 50

    # One page through the API's query: the page and one more decrypted, the total counted.
    before = reader.decrypted
    page, total = reader.query(customer=CUSTOMERS[2], outcome="denied", limit=4)
    assert total == 10
    assert [r["seq"] for r in page] == [291, 261, 231, 201]
    assert reader.decrypted - before == 4
    older, _ = reader.query(customer=CUSTOMERS[2], outcome="denied", before_seq=201, limit=2)
    assert [r["seq"] for r in older] == [171, 141]

    # A time filter in the future matches nothing and opens nothing.
    before = reader.decrypted
    assert reader.read(since="2999-01-01") == []
    assert reader.decrypted == before
    assert len(log.read(since="2000-01-01T00:00:00Z", last=7)) == 7


async def test_the_index_holds_no_ids_and_is_private(data_dir: Path) -> None:
    log = await filled(data_dir, 60)
    log.read(customer=CUSTOMERS[0])
    index = data_dir / "audit" / INDEX_NAME
    assert index.stat().st_mode & 0o777 == 0o600
    raw = b"".join(p.read_bytes() for p in index.parent.glob(f"{INDEX_NAME}*"))
    for value in (*SUBJECTS, *CUSTOMERS, "ALPHA", "zhang"):
        assert value.encode() not in raw, value


async def test_catches_up_on_other_writers_and_rebuilds_when_missing(data_dir: Path) -> None:
    await filled(data_dir, 90)
    reader = open_log(data_dir)
    assert len(reader.read(customer=CUSTOMERS[1])) == 30
    # Appends by another instance (process) index themselves as they are written.
    other = open_log(data_dir)
    for i in range(90, 120):
        await other.append(record(i))
    before = reader.decrypted
    assert [r["seq"] for r in reader.read(customer=CUSTOMERS[1])] == expected(120, CUSTOMERS[1])
    assert reader.decrypted - before == 40

    # An index left behind (its update failed after the log's fsync): the read catches up,
    # decrypting the 30 lines it lacks once, then the 40 matches.
    with sqlite3.connect(data_dir / "audit" / INDEX_NAME) as db:
        db.execute("DELETE FROM records WHERE seq > 90")
    before = reader.decrypted
    assert [r["seq"] for r in reader.read(customer=CUSTOMERS[1])] == expected(120, CUSTOMERS[1])
    assert reader.decrypted - before == 30 + 40

    # Deleted by hand: the next read rebuilds it and answers the same.
    for p in (data_dir / "audit").glob(f"{INDEX_NAME}*"):
        p.unlink()
    fresh = open_log(data_dir)
    assert [r["seq"] for r in fresh.read(customer=CUSTOMERS[1])] == expected(120, CUSTOMERS[1])
    assert (data_dir / "audit" / INDEX_NAME).is_file()


async def test_a_log_replaced_under_the_index_is_reindexed(data_dir: Path, tmp_path: Path) -> None:
    """An older copy of the log put back (a restore) while the index knew a longer one."""
    log = await filled(data_dir, 30)
    older = tmp_path / "older.log"
    shutil.copy(log.path, older)
    for i in range(30, 60):
        await log.append(record(i))
    assert len(log.read(customer=CUSTOMERS[0])) == 20
    shutil.copy(older, log.path)
    assert [r["seq"] for r in log.read(customer=CUSTOMERS[0])] == expected(30, CUSTOMERS[0])
    # And new appends after it index and read as usual: by a restarted writer (the one that
    # wrote seq 31-60 refuses to chain over their loss, tests/privacy/test_audit.py).
    log = open_log(data_dir)
    await log.append(record(30))
    assert log.read(customer=CUSTOMERS[0])[-1]["seq"] == 31


async def test_reindex_command(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await filled(data_dir, 40)
    monkeypatch.setenv("C360_DATA_DIR", str(data_dir))
    done = CliRunner().invoke(cli, ["audit", "reindex"])
    assert done.exit_code == 0, done.output
    assert "40 records" in done.output
    reader = open_log(data_dir)
    assert len(reader.read(subject=SUBJECTS[0])) == 20
    assert reader.decrypted == 20


async def test_index_commits_do_not_wait_for_the_disk(data_dir: Path) -> None:
    """Only the log is fsynced before a request is answered; the index (a cache the next read
    catches up, see above) commits with synchronous=NORMAL, no WAL fsync per request."""
    log = await filled(data_dir, 10)
    db = log._index._conn()
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
