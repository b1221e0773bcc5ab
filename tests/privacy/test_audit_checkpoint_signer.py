"""The hub's checkpoint signer against a log that others write: a batch whose fsync fails,
a changed signing key, a checkpoint log another worker is appending to, another worker's
checkpoints far behind this one's position."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privacy.audit import AuditLog, make_record
from privacy.audit_checkpoints import (
    Checkpointer,
    load_signing_key,
    public_hex,
    read_checkpoint_log,
)
from privacy.keyring import KeyRing


def _append(log: AuditLog, n: int) -> None:
    async def go() -> None:
        for _ in range(n):
            await log.append(make_record(principal=None, operation="q", outcome="ok"))

    asyncio.run(go())


def _sizes(data: Path) -> list[int]:
    return [cp.size for cp in read_checkpoint_log((data / "audit" / CP).read_text())]


CP = "checkpoints.jsonl"


def test_a_batch_whose_fsync_fails_is_never_signed(tmp_path: Path) -> None:
    """A signer (a thread, another worker) that looks while a batch is written but not yet
    fsynced must not sign it: a failed fsync cuts it off, and a checkpoint over it would
    pause checkpoints for good ("rewritten"). The batch in flight is made as the writer makes
    it: under the log's exclusive flock, a record that chains, then cut back."""
    data = tmp_path / "d"
    ring = KeyRing.load(data)
    log = AuditLog(data / "audit", ring)
    _append(log, 3)
    signer = Checkpointer(log.path, load_signing_key(data), every=1, keyring=ring)
    assert signer.tick(0.0) is not None  # 3
    # The record the writer would append next: written by a second log on a copy of this one.
    twin_dir = tmp_path / "twin"
    twin_dir.mkdir()
    shutil.copy(log.path, twin_dir / log.path.name)
    twin = AuditLog(twin_dir, ring)
    _append(twin, 1)
    twin.close()
    batch = (twin_dir / log.path.name).read_bytes()[log.path.stat().st_size :]
    assert batch.count(b"\n") == 1

    during: list[object] = []
    fd = os.open(log.path, os.O_RDWR | os.O_APPEND)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the writer's lock, held from write to fsync
        start = os.fstat(fd).st_size
        os.write(fd, batch)
        looker = threading.Thread(target=lambda: during.append(signer.tick(1e9)))
        looker.start()
        looker.join(1.0)  # it looks now, between the write and the fsync (or waits)
        os.ftruncate(fd, start)  # the fsync failed: the batch is cut off, never acknowledged
    finally:
        os.close(fd)  # the lock goes with it
    looker.join(10)
    assert during == [None]  # nothing new to sign: the batch was cut off before it read

    _append(log, 2)  # the disk recovered
    assert signer.tick(2e9) is not None and signer.problem == ""
    assert _sizes(data) == [3, 5]
    fresh = Checkpointer(log.path, signer.key, keyring=ring)
    assert fresh.check() == ""
    log.close()


def test_a_new_signing_key_signs_on_from_the_old_keys_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """C360_AUDIT_SIGNING_KEY (or the key file) changed: the old key's last checkpoint is
    checked by its own signature and against the log, and the new key signs on (a WARNING,
    once). A line whose signature fails stays a pause; so does a log cut below it."""
    data = tmp_path / "d"
    ring = KeyRing.load(data)
    log = AuditLog(data / "audit", ring)
    _append(log, 3)
    old_key = Ed25519PrivateKey.generate()
    assert Checkpointer(log.path, old_key, every=1, keyring=ring).tick(0.0) is not None
    _append(log, 2)
    new_key = Ed25519PrivateKey.generate()
    signer = Checkpointer(log.path, new_key, every=1, keyring=ring)
    with caplog.at_level(logging.WARNING, "c360.audit"):
        cp = signer.tick(0.0)
        _append(log, 1)
        assert signer.tick(1.0) is not None
        restarted = Checkpointer(log.path, new_key, every=1, keyring=ring)
        _append(log, 1)
        assert restarted.tick(0.0) is not None
    assert cp is not None and cp.size == 5 and signer.problem == ""
    assert cp.key == public_hex(new_key.public_key())
    changed = [r for r in caplog.records if "checkpoint key changed" in r.getMessage()]
    assert len(changed) == 1 and changed[0].levelno == logging.WARNING
    assert public_hex(old_key.public_key()) in changed[0].getMessage()
    assert _sizes(data) == [3, 5, 6, 7]

    # A last line signed by nobody it names: still a pause.
    cp_log = data / "audit" / CP
    last = json.loads(cp_log.read_text().splitlines()[-1])
    last["sig"] = base64.b64encode(old_key.sign(b"something else")).decode()
    with cp_log.open("a") as fh:
        fh.write(json.dumps(last) + "\n")
    _append(log, 1)
    fresh = Checkpointer(log.path, new_key, every=1, keyring=ring)
    assert fresh.tick(0.0) is None
    assert "is not signed by the key it names" in fresh.problem, fresh.problem

    # The old key's checkpoint over more records than the log has: still "truncated".
    other = tmp_path / "e"
    ring2 = KeyRing.load(other)
    log2 = AuditLog(other / "audit", ring2)
    _append(log2, 4)
    assert Checkpointer(log2.path, old_key, every=1, keyring=ring2).tick(0.0) is not None
    log2.close()
    kept = log2.path.read_bytes().split(b"\n")[:2]
    log2.path.write_bytes(b"\n".join(kept) + b"\n")
    cut = Checkpointer(log2.path, new_key, every=1, keyring=ring2)
    assert cut.tick(0.0) is None and cut.problem.startswith("truncated"), cut.problem
    log.close()


def test_a_worker_never_reads_the_log_again_for_the_others_checkpoint(tmp_path: Path) -> None:
    """`serve --workers 2`: worker A signs, then thousands of records come before worker B's
    next look. B knows A's checkpoint before it reads, takes the root as its read passes it,
    and never starts over from record 1 (which costs a decryption per record of the log)."""
    data = tmp_path / "d"
    ring = KeyRing.load(data)
    log = AuditLog(data / "audit", ring)
    key = load_signing_key(data)
    a = Checkpointer(log.path, key, every=100, keyring=ring)
    b = Checkpointer(log.path, key, every=100, keyring=ring)

    def add(n: int) -> None:
        async def go() -> None:
            await asyncio.gather(
                *(
                    log.append(make_record(principal=None, operation="q", outcome="ok"))
                    for _ in range(n)
                )
            )

        asyncio.run(go())

    add(150)
    assert a.tick(0.0) is not None and b.tick(0.0) is None  # 150; B checks it
    for round_ in range(2):
        add(120)
        assert a.tick(1.0 + round_) is not None  # A signs ...
        add(4200)  # ... and more records come than a window of roots would keep
        assert b.tick(1.0 + round_) is not None and b.problem == ""
    assert b.read_again == 0  # B never read the log from record 1 again
    assert _sizes(data) == [150, 270, 4470, 4590, 8790]
    log.close()


def test_a_checkpoint_line_being_appended_is_read_once_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A signer that looks while another worker's checkpoint line is half written sees the
    checkpoints before it, without an error; the line is read once whole. A torn line a crash
    left is cut off by the next append, not joined to it."""
    data = tmp_path / "d"
    ring = KeyRing.load(data)
    log = AuditLog(data / "audit", ring)
    _append(log, 3)
    a = Checkpointer(log.path, load_signing_key(data), every=1, keyring=ring)
    b = Checkpointer(log.path, a.key, every=1, keyring=ring)
    assert a.tick(0.0) is not None and b.check() == ""
    _append(log, 2)
    assert a.check() == ""
    cp_log = data / "audit" / CP
    whole = cp_log.read_bytes()
    a.sign()  # 5, as another worker would append it ...
    line = cp_log.read_bytes()[len(whole) :]
    cp_log.write_bytes(whole + line[:40])  # ... seen half written
    assert b.check() == ""  # 3 is still the last checkpoint
    fresh = Checkpointer(log.path, a.key, every=1, keyring=ring)
    assert fresh.check() == ""
    with cp_log.open("ab") as fh:
        fh.write(line[40:])
    assert b.check() == "" and fresh.check() == ""
    assert b.tick(2.0) is None  # 5 read whole: nothing new to sign

    _append(log, 1)
    with cp_log.open("ab") as fh:
        fh.write(line[:40])  # an append a crash cut short
    with caplog.at_level(logging.WARNING, "c360.audit"):
        assert b.tick(3.0) is not None and b.problem == ""
    assert "cut a torn last line of 40 bytes" in caplog.text
    assert _sizes(data) == [3, 5, 6]
    log.close()
