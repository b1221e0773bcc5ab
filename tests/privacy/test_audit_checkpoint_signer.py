"""The hub's checkpoint signer against a log that others write: a batch whose fsync fails,
a changed signing key, a checkpoint log another worker is appending to, another worker's
checkpoints far behind this one's position."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

import privacy.audit as audit_module
from privacy.audit import AuditLog, make_record
from privacy.audit_checkpoints import Checkpointer, load_signing_key, read_checkpoint_log
from privacy.keyring import KeyRing
from privacy.types import AuditUnavailable


def _append(log: AuditLog, n: int) -> None:
    async def go() -> None:
        for _ in range(n):
            await log.append(make_record(principal=None, operation="q", outcome="ok"))

    asyncio.run(go())


def _sizes(data: Path) -> list[int]:
    return [cp.size for cp in read_checkpoint_log((data / "audit" / CP).read_text())]


CP = "checkpoints.jsonl"


def test_a_batch_whose_fsync_fails_is_never_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signer (a thread, another worker) that looks while a batch is written but not yet
    fsynced must not sign it: the failed fsync cuts it off, and a checkpoint over it would
    pause checkpoints for good ("rewritten")."""
    data = tmp_path / "d"
    ring = KeyRing.load(data)
    log = AuditLog(data / "audit", ring)
    _append(log, 3)
    signer = Checkpointer(log.path, load_signing_key(data), every=1, keyring=ring)
    assert signer.tick(0.0) is not None  # 3

    real_fsync = os.fsync
    armed = [True]
    during: list[object] = []
    lookers: list[threading.Thread] = []

    def failing_fsync(fd: int) -> None:
        if not armed:
            real_fsync(fd)
            return
        armed.clear()  # once: the writer's fsync of the next batch
        looker = threading.Thread(target=lambda: during.append(signer.tick(1e9)))
        looker.start()
        looker.join(1.0)  # it reads now, between the write and the fsync (or waits)
        lookers.append(looker)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(audit_module.os, "fsync", failing_fsync)
    with pytest.raises(AuditUnavailable):
        _append(log, 1)
    monkeypatch.setattr(audit_module.os, "fsync", real_fsync)
    lookers[0].join(10)
    assert during == [None]  # nothing new to sign: the batch was cut off before it read

    _append(log, 2)  # the disk recovered
    assert signer.tick(2e9) is not None and signer.problem == ""
    assert _sizes(data) == [3, 6]  # with the record of the cut (audit_repair)
    fresh = Checkpointer(log.path, signer.key, keyring=ring)
    assert fresh.check() == ""
    log.close()
