"""A backup and `c360 keys rotate-master --retire-old` at the same time: the archive's data
keys and master keys are one consistent pair (QA: the data keys were copied before a
rotation retired their master key, the master keys after it, and the restored hub answered
every customer read with INTERNAL_SERVER_ERROR). The rotation and the backup's key copy
share a lock; a backup or a restore of a pair whose data keys name a master key it lacks is
refused, naming the key."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import backup as hub_backup
from hub.backup import FORMAT, BackupError, _seal_tar, make_backup, restore_backup
from hub.sealed import Secret
from privacy.datakeys import DataKeyStore
from privacy.keyprovider import LocalKeyFileProvider
from privacy.keyring import KeyRing

SECRET = Secret(passphrase=b"correct horse battery staple")
C360 = str(Path(sys.executable).parent / "c360")
REPO = Path(__file__).resolve().parents[2]
OWNERS = [f"Customer:C{n:06d}" for n in range(20)]


def _keyed(data: Path) -> None:
    """A data dir with an audit key ring and data keys for OWNERS under master key m1."""
    data.mkdir(mode=0o700)
    KeyRing.load(data)
    keys = DataKeyStore.in_data_dir(data, LocalKeyFileProvider.in_data_dir(data))
    try:
        keys.get_or_create_many(OWNERS)
    finally:
        keys.close()


def _masters(data: Path) -> list[str]:
    return LocalKeyFileProvider.in_data_dir(data).key_ids()


def _opened(data: Path) -> dict[str, bytes]:
    """The data keys of OWNERS that open in ``data`` with its own master keys."""
    keys = DataKeyStore.in_data_dir(data, LocalKeyFileProvider.in_data_dir(data))
    try:
        return keys.get_many(OWNERS)
    finally:
        keys.close()


def _rotate(data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "C360_DATA_DIR": str(data), "C360_AUDIT_KEYS": "", "C360_GRAPH_URL": ""}
    return subprocess.Popen(
        [C360, "keys", "rotate-master", "--by", "po1", "--retire-old"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_for(found: object, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not callable(found) or not found():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def held_file(short_dir: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """keys/hold.sqlite, sorted between the data keys and the master keys, locked exclusively:
    a backup that copies the data dir's files one by one stops at it (SQLite's online backup
    retries while the database is locked) until the test releases it."""
    data = short_dir / "d"
    _keyed(data)
    path = data / "keys" / "hold.sqlite"
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (n INTEGER)")
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield data, db
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.close()


def test_a_rotation_during_the_backup_leaves_a_restorable_key_pair(
    short_dir: Path, held_file: tuple[Path, sqlite3.Connection]
) -> None:
    """The QA race, made certain: the rotation (a real `c360 keys rotate-master --retire-old`
    process) runs to its end while the backup is held between its copy of the data keys and
    the files after them. The restored dir's data keys all open with its own master keys."""
    data, hold = held_file
    archive = short_dir / "b.c360bak"
    failed: list[BaseException] = []

    def backup() -> None:
        try:
            make_backup(data, archive, SECRET, graph_socket=None)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=backup)
    thread.start()
    try:
        # The backup has begun copying hold.sqlite: the data keys are copied already.
        _wait_for(lambda: any(data.glob("tmp/c360-stage-*/files/keys/hold.sqlite")), "the copy")
        rotation = _rotate(data)
        out, _ = rotation.communicate(timeout=60)
        assert rotation.returncode == 0, out
        assert _masters(data) == ["m2"]  # m1 retired: every data key is under m2 now
    finally:
        hold.execute("ROLLBACK")  # the backup goes on
        thread.join(timeout=60)
    assert not failed, failed
    target = short_dir / "r"
    restore_backup(archive, target, SECRET)
    assert sorted(_opened(target)) == sorted(OWNERS)  # before the fix: m1 missing, none opens


def test_the_rotation_waits_for_a_backups_key_copy(short_dir: Path) -> None:
    """The lock a backup holds while it copies the key pair keeps a real rotation from
    starting until it is released: the two are serialised, not interleaved."""
    data = short_dir / "d"
    _keyed(data)
    with hub_backup.master_key_lock(data):
        rotation = _rotate(data)
        with pytest.raises(subprocess.TimeoutExpired):
            rotation.wait(timeout=5)  # it would take well under a second
        assert _masters(data) == ["m1"]
    out, _ = rotation.communicate(timeout=60)
    assert rotation.returncode == 0, out
    assert "waiting for a backup's key copy" in out
    assert _masters(data) == ["m2"] and sorted(_opened(data)) == sorted(OWNERS)


def test_the_backup_waits_for_a_running_rotation(short_dir: Path) -> None:
    """A backup that reaches the key pair while a rotation holds the lock says so and copies
    the pair only once the rotation is done."""
    data = short_dir / "d"
    _keyed(data)
    steps: list[str] = []
    archive = short_dir / "b.c360bak"
    with hub_backup.master_key_lock(data):
        thread = threading.Thread(
            target=make_backup,
            args=(data, archive, SECRET),
            kwargs={"graph_socket": None, "progress": steps.append},
        )
        thread.start()
        _wait_for(lambda: "waiting for `c360 keys rotate-master`" in steps, "the wait")
        time.sleep(0.5)
        assert thread.is_alive() and not archive.exists()
    thread.join(timeout=60)
    assert archive.is_file()


def test_a_key_pair_missing_a_master_key_is_neither_backed_up_nor_restored(
    short_dir: Path,
) -> None:
    """Data keys under m1 beside a master key file without m1 (what the race archived): the
    backup refuses to write it, and a restore of such an archive (taken by a version without
    the check) refuses it before anything is put in place."""
    data = short_dir / "d"
    _keyed(data)
    provider = LocalKeyFileProvider.in_data_dir(data)
    provider.rotate()
    provider.retire("m1")  # the data keys are still wrapped under m1
    archive = short_dir / "b.c360bak"
    with pytest.raises(BackupError, match="wrapped under master key m1, which"):
        make_backup(data, archive, SECRET, graph_socket=None)
    assert not archive.exists() and not archive.with_name("b.c360bak.partial").exists()

    # The archive an older version wrote: the files as they are, without the pair check.
    entries = [
        (f"files/{p.relative_to(data).as_posix()}", p)
        for p in sorted((data / "keys").rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    ]
    manifest = {
        "format": FORMAT, "created": "2026-11-30T00:00:00+00:00", "source": str(data),
        "graph": None, "audit_records": 0,
        "entries": {
            name: {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                   "bytes": path.stat().st_size}
            for name, path in entries
        },
    }  # fmt: skip
    old = short_dir / "old.c360bak"
    with old.open("wb") as out:
        _seal_tar(manifest, entries, out, SECRET)
    target = short_dir / "r"
    with pytest.raises(BackupError, match=r"wrapped under master key m1, which .*restore another"):
        restore_backup(old, target, SECRET)
    assert list(target.iterdir()) == []
