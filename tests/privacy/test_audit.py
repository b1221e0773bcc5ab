"""The audit log: durable concurrent appends, tamper detection, key rotation, fail closed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing, KeyRingError
from privacy.types import AuditUnavailable, Principal

ROOT = Path(__file__).resolve().parents[2]
ADVISOR = Principal("a1", ("advisor",), "service")


def record(i: int, customer: str = "c1") -> dict:
    return make_record(
        principal=ADVISOR, operation=f"op{i}", outcome="ok", query="{ customer { name } }",
        customers={customer: {"revealed": ["name"], "masked": ["nationalId"]}},
        decision_ids=[f"d{i}"], policy_revision="rev",
    )  # fmt: skip


def open_log(data_dir: Path) -> AuditLog:
    return AuditLog(data_dir / "audit", KeyRing.load(data_dir))


async def test_concurrent_appends_chain(data_dir: Path) -> None:
    log = open_log(data_dir)
    seqs = await asyncio.gather(*(log.append(record(i)) for i in range(200)))
    assert sorted(seqs) == list(range(1, 201))
    result = log.verify()
    assert (result.ok, result.count) == (True, 200)
    rows = log.read(last=3)
    assert [r["seq"] for r in rows] == [198, 199, 200]
    assert rows[0]["fields"] == {"c1": {"revealed": ["name"], "masked": ["nationalId"]}}
    assert b"advisor" not in log.path.read_bytes()  # encrypted at rest
    assert (data_dir / "keys" / "audit-keyring.json").stat().st_mode & 0o777 == 0o600


async def test_appends_from_two_processes(data_dir: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from privacy.audit import AuditLog
        from privacy.keyring import KeyRing
        d = Path({str(data_dir)!r})
        log = AuditLog(d / "audit", KeyRing.load(d))
        async def main():
            for i in range(60):
                await log.append({{"operation": "child", "i": i}})
        asyncio.run(main())
    """)
    log = open_log(data_dir)
    child = subprocess.Popen([sys.executable, "-c", script])
    for i in range(60):
        await log.append(record(i))
    assert await asyncio.to_thread(child.wait, 60) == 0
    result = log.verify()
    assert (result.ok, result.count) == (True, 120)
    assert sum(r.get("operation") == "child" for r in log.read()) == 60


async def _log_with(data_dir: Path, n: int) -> AuditLog:
    log = open_log(data_dir)
    for i in range(n):
        await log.append(record(i))
    return log


def _rewrite(path: Path, fn) -> None:
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(fn(lines)) + b"\n")


async def test_changed_byte_is_named(data_dir: Path) -> None:
    log = await _log_with(data_dir, 5)

    def flip(lines: list[bytes]) -> list[bytes]:
        entry = json.loads(lines[2])
        ct = bytearray(base64.b64decode(entry["ct"]))
        ct[0] ^= 1
        entry["ct"] = base64.b64encode(bytes(ct)).decode()
        lines[2] = json.dumps(entry, separators=(",", ":")).encode()
        return lines

    _rewrite(log.path, flip)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "hash" in result.reason


async def test_deleted_line_is_named(data_dir: Path) -> None:
    log = await _log_with(data_dir, 5)
    _rewrite(log.path, lambda lines: lines[:1] + lines[2:])
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


async def test_swapped_lines_are_named(data_dir: Path) -> None:
    log = await _log_with(data_dir, 5)
    _rewrite(log.path, lambda lines: [lines[0], lines[1], lines[3], lines[2], lines[4]])
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_rechained_record_fails_authentication(data_dir: Path) -> None:
    """Deleting a record and recomputing every later hash still fails: AAD binds prev."""
    from privacy.audit import GENESIS, chain_hash

    log = await _log_with(data_dir, 3)

    def rechain(lines: list[bytes]) -> list[bytes]:
        out, prev = [], GENESIS
        for seq, line in enumerate([lines[0], lines[2]], start=1):
            e = json.loads(line)
            e["seq"], e["prev"] = seq, prev
            e["hash"] = chain_hash(prev, seq, e["ts"], e["kid"], e["nonce"], e["ct"])
            prev = e["hash"]
            out.append(json.dumps(e, separators=(",", ":")).encode())
        return out

    _rewrite(log.path, rechain)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "not authentic" in result.reason


async def test_torn_last_line_is_named_then_cut_by_the_next_append(data_dir: Path) -> None:
    log = await _log_with(data_dir, 4)
    data = log.path.read_bytes()
    log.path.write_bytes(data[:-20])
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "torn" in result.reason
    # After a crash: a new process (the one that wrote seq 4 would refuse, its record gone).
    log = open_log(data_dir)
    assert await log.append(record(9)) == 5  # seq 4 is the repair event
    healed = log.verify()
    assert (healed.ok, healed.count) == (True, 5)
    torn_bytes = len(data[:-20]) - data[:-20].rfind(b"\n") - 1
    assert healed.repairs == (
        (4, {"cuts": [{"truncated_bytes": torn_bytes, "offset": len(data[:-20]) - torn_bytes}]}),
    )


async def test_a_torn_tail_after_the_writers_own_records_is_still_cut(data_dir: Path) -> None:
    """What a write of this process that failed and could not be cut off leaves (bytes after
    its last acknowledged record) is repaired by its next append, as before."""
    log = await _log_with(data_dir, 3)
    with log.path.open("ab") as f:
        f.write(b'{"seq":4,"ts":"2026-')
    assert await log.append(record(9)) == 5  # seq 4 is the repair event
    healed = log.verify()
    assert (healed.ok, healed.count, log.gone) == (True, 5, "")
    assert [seq for seq, _ in healed.repairs] == [4]


def _cut(path: Path, keep: int) -> bytes:
    """Cut the log back to its first ``keep`` records; the bytes it had."""
    data = path.read_bytes()
    path.write_bytes(b"".join(line + b"\n" for line in data.split(b"\n")[:keep]))
    return data


async def test_records_cut_behind_the_running_writer_are_refused_and_named(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA (auditcut): the log cut back behind a running hub (to its last checkpoint, so no
    checkpoint shows it); the next request was written as seq 132 over the cut, and verify and
    auditChain said OK. The writer knows what it wrote: the cut is refused and named."""
    from hub.audit_ready import RECORDS_GONE, AuditReadiness

    log = await _log_with(data_dir, 12)
    data = _cut(log.path, 8)  # seq 9-12, all written by this log, are gone
    with pytest.raises(AuditUnavailable, match=r"seq 9-12 are gone") as refused:
        await log.append(record(99))
    assert "wrote up to seq 12" in str(refused.value) and "ends at seq 8" in str(refused.value)
    assert any(
        r.levelname == "ERROR" and "seq 9-12 are gone" in r.getMessage() for r in caplog.records
    ), caplog.text
    assert log.path.read_bytes() == data[: len(log.path.read_bytes())]  # nothing written
    assert (log.verify().count, "seq 9-12 are gone" in log.own_records_gone()) == (8, True)
    assert AuditReadiness().problem(log) == RECORDS_GONE  # /readyz: 503
    with pytest.raises(AuditUnavailable):  # still refused: nothing chains over the cut
        log.append_now(record(100))

    log.path.write_bytes(data)  # restored from a copy that holds them
    assert await log.append(record(101)) == 13
    assert (log.gone, AuditReadiness().problem(log), log.verify().ok) == ("", None, True)


async def test_a_rewritten_record_behind_the_writer_is_refused(data_dir: Path) -> None:
    """Same length, another last record (a log replaced by another one as long)."""
    log = await _log_with(data_dir, 3)
    data = log.path.read_bytes()
    other = await _log_with(data_dir / "other", 3)
    log.path.write_bytes(other.path.read_bytes())
    with pytest.raises(AuditUnavailable, match=r"seq 3, which this process wrote, is no longer"):
        await log.append(record(9))
    log.path.write_bytes(data)
    assert await log.append(record(10)) == 4


async def test_a_cut_the_last_checkpoint_shows_is_served_on_and_logged(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Cut below the last signed checkpoint: checkpoints pause and verify fails (README, Audit
    checkpoints), so the hub goes on serving, as it does for a cut another process made."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from privacy.audit_checkpoints import Checkpointer

    log = await _log_with(data_dir, 12)
    signer = Checkpointer(log.path, Ed25519PrivateKey.generate(), every=1)
    assert signer.tick(0.0) is not None and signer.head()[0] == 12
    _cut(log.path, 8)
    assert await log.append(record(99)) == 9
    assert "seq 9-12 are gone" in caplog.text and "checkpoints report it" in caplog.text
    assert log.gone == "" and signer.check().startswith("truncated"), signer.problem


async def test_rotation_keeps_old_records_readable(data_dir: Path) -> None:
    log = await _log_with(data_dir, 2)
    ring = KeyRing.load(data_dir)
    old = ring.active_kid
    new = ring.rotate()
    assert new != old
    log2 = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    await log2.append(record(3))
    entries = [json.loads(x) for x in log2.path.read_text().splitlines()]
    assert [e["kid"] for e in entries] == [old, old, new]
    assert log2.verify().ok
    assert len(log2.read()) == 3
    assert len(log.read()) == 3  # the first instance re-reads the ring for the new kid


async def test_a_running_log_writes_under_a_key_rotated_elsewhere(data_dir: Path) -> None:
    """`c360 audit rotate-key` beside a running hub: the hub's next records are under the new
    key, not the one it loaded at start (its ring is its own object, as in another process)."""
    hub = await _log_with(data_dir, 1)
    new = KeyRing.load(data_dir).rotate()  # the CLI's own ring
    await hub.append(record(2))
    entries = [json.loads(x) for x in hub.path.read_text().splitlines()]
    assert entries[-1]["kid"] == new != entries[0]["kid"]
    assert hub.verify().ok


def test_a_failed_re_read_after_a_rotation_is_tried_again(data_dir: Path) -> None:
    """The ring file could not be read once after another process rotated (moved, EMFILE):
    that use fails, and the next reads it, rather than writing on under the old key."""
    hub = KeyRing.load(data_dir)
    new = KeyRing.load(data_dir).rotate()
    ring_file = data_dir / "keys" / "audit-keyring.json"
    ring_file.rename(ring_file.with_name("away.json"))
    with pytest.raises(KeyRingError):
        hub.active_key()
    ring_file.with_name("away.json").rename(ring_file)
    assert hub.active_key()[0] == new


async def test_env_keyring_writes_no_file_and_cannot_rotate(data_dir: Path) -> None:
    k = base64.b64encode(os.urandom(32)).decode()
    ring = KeyRing.load(data_dir, f"k9:{k},k8:{k}")
    assert ring.active_kid == "k9"
    assert not (data_dir / "keys" / "audit-keyring.json").exists()
    with pytest.raises(KeyRingError, match="C360_AUDIT_KEYS"):
        ring.rotate()
    with pytest.raises(KeyRingError):
        KeyRing.from_env("k1:short")


async def test_read_filters(data_dir: Path) -> None:
    log = open_log(data_dir)
    await log.append(record(1, "c1"))
    await log.append(record(2, "c2"))
    assert [r["operation"] for r in log.read(customer="c2")] == ["op2"]
    assert log.read(subject="nobody") == []
    assert len(log.read(since="2000-01-01T00:00:00Z")) == 2
    assert log.read(since="2999-01-01") == []


async def test_unwritable_directory_raises_audit_unavailable(data_dir: Path) -> None:
    blocker = data_dir / "not-a-dir"
    blocker.write_text("a regular file where the audit directory's parent should be")
    log = AuditLog(blocker / "audit", KeyRing.load(data_dir))
    with pytest.raises(AuditUnavailable):
        await log.append(record(1))


async def test_full_disk_raises_audit_unavailable(data_dir: Path) -> None:
    audit_dir = data_dir / "audit"
    audit_dir.mkdir()
    (audit_dir / "audit.log").symlink_to("/dev/full")
    log = AuditLog(audit_dir, KeyRing.load(data_dir))
    with pytest.raises(AuditUnavailable):
        await log.append(record(1))


async def test_two_writers_taking_turns_keep_one_chain(data_dir: Path) -> None:
    """Each instance remembers where its last batch left the log; the other's appends in
    between must make it read the tail again (a remembered tail would fork the chain)."""
    first, second = open_log(data_dir), open_log(data_dir)
    for i in range(30):
        assert await first.append(record(i)) == 2 * i + 1
        assert await second.append(record(i, "c2")) == 2 * i + 2
    for i in range(5):  # and runs of its own, where the remembered tail is the true one
        assert await first.append(record(100 + i)) == 61 + i
    result = first.verify()
    assert (result.ok, result.count) == (True, 65)


async def test_one_writer_thread_takes_every_batch(data_dir: Path) -> None:
    """Appends go to one writer thread per log (started by the first, not one per batch)."""
    import threading

    def writers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "c360-audit"}

    log = open_log(data_dir)
    before = writers()
    for round_ in range(3):
        seqs = await asyncio.gather(*(log.append(record(i)) for i in range(50)))
        assert sorted(seqs) == list(range(50 * round_ + 1, 50 * round_ + 51))
        assert len(writers() - before) == 1
    assert (log.verify().ok, log.verify().count) == (True, 150)
