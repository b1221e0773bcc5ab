"""An audit log whose chain is broken: `c360 backup` refuses to archive it (a restore would
refuse the archive), and `c360 restore` of an archive that holds one (an older version took
it) stops before anything is put in place, so the target stays empty, and says what can be
done: restore an earlier archive."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.backup import make_backup
from hub.cli import app as cli
from hub.sealed import Secret
from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing

PASSPHRASE = "correct horse battery staple"


def c360(data: Path, *args: str, code: int = 0) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200", "C360_BACKUP_PASSPHRASE": PASSPHRASE,
           "C360_ERASURE_LEDGER": "", "C360_AUDIT_KEYS": "", "C360_GRAPH_URL": ""}  # fmt: skip
    done = CliRunner().invoke(cli, list(args), env=env)
    assert done.exit_code == code, done.output
    return " ".join(done.output.split())


def _audited(data: Path, records: int = 4) -> Path:
    """A data dir with an audit key ring and a log of ``records`` records; the log's path."""
    data.mkdir(mode=0o700)
    log = AuditLog(data / "audit", KeyRing.load(data))
    for n in range(records):
        log.append_now(make_record(principal=None, operation=f"op {n}", outcome="ok"))
    log.close()
    return log.path


def _break(log: Path, seq: int) -> None:
    """Change one byte of record ``seq``'s ciphertext (the line stays valid JSON)."""
    lines = log.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[seq - 1])
    ct = bytearray(base64.b64decode(record["ct"]))
    ct[0] ^= 1
    record["ct"] = base64.b64encode(bytes(ct)).decode()
    lines[seq - 1] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    log.write_bytes(b"".join(lines))


@pytest.fixture
def broken(short_dir: Path) -> Path:
    data = short_dir / "d"
    _break(_audited(data), 2)
    assert not AuditLog(data / "audit", KeyRing.load(data)).verify().ok
    return data


def test_a_backup_of_a_broken_chain_is_refused(broken: Path, short_dir: Path) -> None:
    archive = short_dir / "b.c360bak"
    out = c360(broken, "backup", "--no-graph", "--to", str(archive), code=2)
    assert "the audit log does not verify at seq 2" in out, out
    assert "Nothing was written" in out and "c360 audit verify" in out
    assert not archive.exists() and not archive.with_name("b.c360bak.partial").exists()


def test_a_backup_of_a_whole_chain_is_written(short_dir: Path) -> None:
    data = short_dir / "d"
    _audited(data)
    archive = short_dir / "b.c360bak"
    out = c360(data, "backup", "--no-graph", "--to", str(archive))
    assert "checking the audit chain" in out and "4 audit records" in out, out
    assert archive.is_file()


def test_a_restore_of_a_broken_chain_leaves_the_target_empty(broken: Path, short_dir: Path) -> None:
    """The archive an older version wrote without checking (make_backup checks only what it
    is given to): refused in staging, the target empty, the advice one that can work."""
    archive = short_dir / "b.c360bak"
    make_backup(broken, archive, Secret(passphrase=PASSPHRASE.encode()), graph_socket=None)
    target = short_dir / "r"
    out = c360(broken, "restore", str(archive), "--to", str(target), code=2)
    assert "the archive's audit log does not verify at seq 2" in out, out
    assert "nothing was restored" in out and "restore an earlier archive" in out
    assert "restore it again into an empty dir" not in out  # it would fail the same way
    assert not target.exists() or list(target.iterdir()) == []


def test_a_backup_without_the_audit_keys_at_hand_warns_and_is_written(short_dir: Path) -> None:
    """A hub that keeps its audit keys in C360_AUDIT_KEYS, backed up from a shell without
    them: the chain cannot be checked, which is said; the backup is not the place to refuse
    (the restore asks for the keys)."""
    data = short_dir / "d"
    _audited(data)
    (data / "keys" / "audit-keyring.json").unlink()
    archive = short_dir / "b.c360bak"
    out = c360(data, "backup", "--no-graph", "--to", str(archive))
    assert "warning: the audit chain was not checked: no audit key ring at hand" in out, out
    assert archive.is_file()
