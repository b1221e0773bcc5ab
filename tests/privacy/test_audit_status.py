"""The audit chain status the API serves: the same walk as `c360 audit verify`, resumed after
the last verified record, with the latest signed checkpoint checked against the log."""

from __future__ import annotations

import json
from pathlib import Path

from privacy.audit import AuditLog, make_record
from privacy.audit_checkpoints import load_signing_key, make_checkpoint
from privacy.audit_status import AuditChainMonitor
from privacy.keyring import KeyRing
from privacy.types import Principal

OFFICER = Principal("po1", ("privacy_officer",), "compliance")


async def _log(data_dir: Path, n: int) -> AuditLog:
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    for i in range(n):
        await log.append(make_record(principal=OFFICER, operation=f"op{i}", outcome="ok"))
    return log


def _flip_ct(log: AuditLog, seq: int, same_length: bool) -> None:
    """Tamper with one record's ciphertext (keeping or changing the line's length)."""
    lines = log.path.read_bytes().split(b"\n")
    entry = json.loads(lines[seq - 1])
    ct = entry["ct"]
    entry["ct"] = ("A" if ct[0] != "A" else "B") + ct[1:] if same_length else ct + "AAAA"
    lines[seq - 1] = json.dumps(entry, separators=(",", ":")).encode()
    log.path.write_bytes(b"\n".join(lines))


async def test_resumed_walk_counts_new_records_and_matches_a_full_walk(data_dir: Path) -> None:
    log = await _log(data_dir, 5)
    first = log.verify()
    assert (first.ok, first.count) == (True, 5) and first.state is not None
    for i in range(3):
        await log.append(make_record(principal=OFFICER, operation=f"more{i}", outcome="ok"))
    resumed = log.verify(since=first.state)
    full = log.verify()
    assert (resumed.ok, resumed.count) == (True, 8) == (full.ok, full.count)
    assert resumed.state == full.state


async def test_resumed_walk_reads_only_new_records(data_dir: Path) -> None:
    # A same-length change inside the verified prefix is outside what a resumed walk reads:
    # proof that it does not re-walk; the monitor's periodic full walk finds it (below).
    log = await _log(data_dir, 4)
    state = log.verify().state
    _flip_ct(log, 2, same_length=True)
    assert log.verify(since=state).ok
    broken = log.verify()
    assert (broken.ok, broken.first_bad_seq) == (False, 2)


async def test_a_changed_prefix_makes_the_resumed_walk_start_over(data_dir: Path) -> None:
    log = await _log(data_dir, 4)
    state = log.verify().state
    _flip_ct(log, 4, same_length=False)  # the last verified line moved
    result = log.verify(since=state)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "hash does not match" in result.reason


async def test_monitor_status_checkpoint_and_problems(data_dir: Path) -> None:
    log = await _log(data_dir, 6)
    key = load_signing_key(data_dir)
    monitor = AuditChainMonitor(log, lambda: key.public_key(), max_age_s=0, full_every_s=3600)
    status = await monitor.status()
    assert (status.verified, status.records, status.last_seq) == (True, 6, 6)
    assert status.last_checkpoint is None and status.problems == ()

    make_checkpoint(log.path, key)
    await log.append(make_record(principal=OFFICER, operation="after", outcome="ok"))
    status = await monitor.status()
    assert (status.verified, status.records) == (True, 7)
    assert status.last_checkpoint is not None and status.last_checkpoint.seq == 6

    # Within max_age_s the kept status is served; a same-length edit is found by a full walk.
    _flip_ct(log, 3, same_length=True)
    assert (await monitor.status()).verified  # resumed: only new records are walked
    monitor.full_every_s = 0
    status = await monitor.status()
    assert not status.verified and status.records == 2 and status.last_seq == 7
    assert status.problems[0] == "BROKEN at seq 3: hash does not match the record"


async def test_monitor_names_a_log_shorter_than_its_checkpoint(data_dir: Path) -> None:
    log = await _log(data_dir, 5)
    key = load_signing_key(data_dir)
    make_checkpoint(log.path, key)
    lines = log.path.read_bytes().split(b"\n")
    log.path.write_bytes(b"\n".join(lines[:3]) + b"\n")  # the last two records removed
    status = await AuditChainMonitor(log, lambda: key.public_key()).status()
    assert not status.verified and status.records == 3
    assert status.problems == ("truncated: checkpoint 5 covers more records than the log's 3",)
