"""Backups and erasure: a backup taken after an erasure holds none of the customer's values,
and restoring one taken before it does not bring the customer back (the erasure ledger is
re-applied: data key destroyed again, node removed)."""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.sealed import Secret, open_sealed
from privacy.audit import AuditLog
from privacy.datakeys import DataKeyStore
from privacy.keyprovider import LocalKeyFileProvider
from privacy.keyring import KeyRing
from tests.privacy.test_subject_requests import (
    CID,
    EXAMPLES,
    ONE,
    VALUES,
    Officer,
    everything,
    holding,
    hub,
    imported,
)

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360x-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def cli_in(data: Path, *args: str, mirror: Path | None, code: int = 0) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200", "C360_BACKUP_PASSPHRASE": PASSPHRASE,
           "C360_ERASURE_LEDGER": str(mirror) if mirror else ""}  # fmt: skip
    done = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    assert done.exit_code == code, done.output
    return done.output


def archive_members(archive: Path) -> dict[str, bytes]:
    """The decrypted archive: every file in its tar (graph snapshot, keys, audit, ledgers)."""
    secret = Secret(passphrase=PASSPHRASE.encode())
    with archive.open("rb") as f:
        tar_bytes = b"".join(open_sealed(f, secret))
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def has_key(data: Path, owner: str) -> bool:
    keys = DataKeyStore.in_data_dir(data, LocalKeyFileProvider.in_data_dir(data))
    try:
        return bool(keys.get_many([owner]))
    finally:
        keys.close()


async def not_found(data: Path) -> None:
    async with hub(data) as c:
        body = await Officer(c, data, "po1").gql(ONE, id=CID)
    assert body["data"]["customer"] is None, body
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_backups_around_an_erasure(root: Path) -> None:
    data, mirror = root / "d", root / "elsewhere" / "erasures.jsonl"
    await imported(data)
    old = root / "old.c360bak"
    await cli_in(data, "backup", "--to", str(old), mirror=mirror)
    assert has_key(data, f"Customer:{CID}")
    await cli_in(data, "erase", "--customer", CID, "--reason", "ticket 7", "--by", "po1",
                 "--approved-by", "po2", mirror=mirror)  # fmt: skip
    ledger = (data / "erasure-ledger.jsonl").read_text()
    assert CID in ledger and mirror.read_text() == ledger
    for value in VALUES.values():
        assert value not in ledger

    # (a) A backup taken after the erasure: neither the raw archive nor any decrypted entry
    # (the graph snapshot included) holds one of the customer's values.
    new = root / "new.c360bak"
    await cli_in(data, "backup", "--to", str(new), mirror=mirror)
    raw = new.read_bytes()
    members = archive_members(new)
    assert "graph/dump.rdb" in members and "files/keys/datakeys.sqlite" in members
    for value in VALUES.values():
        assert value.encode() not in raw, value
        assert [n for n, body in members.items() if value.encode() in body] == [], value
    assert b"Customer:" + CID.encode() not in members["files/keys/datakeys.sqlite"]

    # (b) The old backup still holds the customer's data key ...
    old_members = archive_members(old)
    assert b"Customer:" + CID.encode() in old_members["files/keys/datakeys.sqlite"]

    # ... restored while the live data dir is there: its ledger is re-applied.
    r1 = root / "r1"
    out = await cli_in(data, "restore", str(old), "--to", str(r1), mirror=None)
    assert "erased again in the restored dir: 1" in out and CID in out
    assert not has_key(r1, f"Customer:{CID}")
    for value in VALUES.values():
        assert holding(everything(r1), value) == [], value
    await not_found(r1)
    records = AuditLog(r1 / "audit", KeyRing.load(r1)).read(customer=CID)
    assert [r["details"]["reapplied"]["keys_destroyed"] for r in records
            if r["operation"] == "reapply erasures"] == [1]  # fmt: skip
    assert AuditLog(r1 / "audit", KeyRing.load(r1)).verify().ok

    # ... restored after the data dir is lost: the mirror outside it is re-applied.
    shutil.rmtree(data)
    r2 = root / "r2"
    out = await cli_in(r2, "restore", str(old), mirror=mirror)
    assert "erased again in the restored dir: 1" in out
    assert not has_key(r2, f"Customer:{CID}")
    assert CID in (r2 / "erasure-ledger.jsonl").read_text()  # the restored dir remembers
    await not_found(r2)

    # Without any ledger the old backup would bring the customer back: the restore says so.
    r3 = root / "r3"
    out = await cli_in(r3, "restore", str(old), mirror=None)
    assert "C360_ERASURE_LEDGER is not set" in out
    assert has_key(r3, f"Customer:{CID}")
    # ... and `c360 erase --reapply --erasures FILE` finishes the job with a ledger copy.
    out = await cli_in(r3, "erase", "--reapply", "--erasures", str(mirror), mirror=None)
    assert "erased again: 1" in out
    assert not has_key(r3, f"Customer:{CID}")
    await not_found(r3)
