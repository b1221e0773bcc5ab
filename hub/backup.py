"""Online backups of a data dir, and restores into an empty one.

A backup is a tar (manifest.json, graph/dump.rdb, files/...) sealed with ``hub.sealed``.
Order, so that the archive is one consistent point in time for what matters: the import and
social ingest checkpoints first (``checkpoints/``: what an import or a stream committed), so
they never claim more than the graph snapshot holds (a restored re-run resumes after them and
re-imports, idempotently, what was committed in between, instead of skipping rows the snapshot
lacks), then the graph snapshot (one instant, taken by the graph server while it keeps
serving), then the audit log under its own write lock (whole records only, and every write in
the snapshot has its write-ahead record, which is appended before the write), then the rest of
the files (keys, mask and JWT keys, policy overrides, the sentiment model, dead letters).
The data keys and the master keys that wrap them are copied as one pair, under the lock
``c360 keys rotate-master`` holds for its whole run (``master_key_lock``), and both a backup
and a restore check that every master key the data keys name is in the pair.
The manifest holds a SHA-256 and size per file and the snapshot's node and relationship
counts (read from the snapshot itself). A restore checks all of them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from graph.snapshot import GraphCounts, count, fetch_snapshot, materialise
from hub.sealed import SealError, Secret, open_sealed, seal
from hub.staging import STAGING_DIR, remove_stale, staging
from shared.dataformat import FORMAT_FILE, FormatError, check_format

__all__ = ["BackupError", "BackupSummary", "make_backup", "master_key_lock", "restore_backup"]

FORMAT = 1
GRAPH_ENTRY = "graph/dump.rdb"
AUDIT_LOG = Path("audit") / "audit.log"
CHECKPOINT_LOG = Path("audit") / "checkpoints.jsonl"
# What imports and social ingests committed (ingest.checkpoint): copied before the graph
# snapshot, so a checkpoint never runs ahead of the graph it is restored with.
INGEST_CHECKPOINTS = "checkpoints"
GRAPH_DIR = "falkordb"  # the embedded server's own files: only through a snapshot
# SQLite's own journals: the staged copy of a database already holds what they committed, and
# a journal restored beside it would be rolled back into it.
SKIPPED_SUFFIXES = (".lock", ".sock", ".pid", ".sqlite-journal", ".sqlite-wal", ".sqlite-shm")
# Derived from the audit log and rebuilt from it on first read: not worth a consistent copy.
AUDIT_INDEX = ("audit-index.sqlite", "audit-index.sqlite-wal", "audit-index.sqlite-shm")
# The data keys and the master keys that wrap them: only usable together, so copied together
# (privacy/datakeys.py, privacy/keyprovider.py name the files).
DATA_KEYS = Path("keys") / "datakeys.sqlite"
MASTER_KEYS = Path("keys") / "master-keys.json"
# Held by `c360 keys rotate-master` from its new key to its last retired one, and by a backup
# while it copies the pair: a rotation between the two copies could retire the master key the
# copied data keys are wrapped under. Not the provider's own master-keys.lock: the rotation
# takes that one for each step inside this one.
ROTATION_LOCK = Path("keys") / "master-rotation.lock"

Progress = Callable[[str], None]


class BackupError(Exception):
    """What the operator must fix; the message says how."""


@dataclass(frozen=True)
class BackupSummary:
    files: int
    bytes: int
    graph: GraphCounts | None
    audit_records: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy_audit_log(src: Path, dest: Path) -> int:
    """Copy whole records under the log's own lock; returns how many."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        data = f.read()
    whole = data[: data.rfind(b"\n") + 1]  # a torn tail is not a record
    dest.write_bytes(whole)
    return whole.count(b"\n")


def _copy_checkpoints(src: Path, dest: Path, records: int) -> None:
    """Copy the checkpoint log without the checkpoints signed over more than ``records`` (the
    audit log copied before it): a checkpoint the hub signed between the two copies covers
    records the backup lacks, and the restored hub would refuse to sign on ("truncated")."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    for line in src.read_bytes().splitlines(keepends=True):
        try:
            size = json.loads(line)["size"]
        except (ValueError, KeyError, TypeError):
            size = None  # not a checkpoint: kept as it is (the restored hub names it)
        if not isinstance(size, int) or size <= records:
            kept.append(line)
    dest.write_bytes(b"".join(kept))
    os.chmod(dest, src.stat().st_mode & 0o777)


def _stage_copy(src: Path, dest: Path) -> None:
    """A copy of one live file as it is at one instant: checksummed and archived from the copy,
    so a file written meanwhile (the data-key store gains a key per new customer) cannot
    disagree with its checksum. SQLite files go through SQLite's online backup, which copies
    a consistent database even while another connection writes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".sqlite":
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        os.chmod(dest, src.stat().st_mode & 0o777)  # a key store stays 0600
    else:
        shutil.copy2(src, dest)


@contextlib.contextmanager
def master_key_lock(data_dir: Path, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Hold the master key rotation lock of ``data_dir`` (blocking; ``waiting`` is called
    first when another process holds it)."""
    path = data_dir / ROTATION_LOCK
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # drops the lock


def _stage_key_pair(data_dir: Path, files: Path, progress: Progress) -> list[Path]:
    """Copy the data keys, then the master keys, under the rotation lock; the relative paths
    copied. Master keys are only added outside a rotation (the hub wraps new data keys under
    the active one), so the later copy holds every key the earlier one names."""
    copied: list[Path] = []
    if not (data_dir / DATA_KEYS.parent).is_dir():
        return copied  # no keys to pair (and no lock file made in a dir without them)
    with master_key_lock(data_dir, lambda: progress("waiting for `c360 keys rotate-master`")):
        for rel in (DATA_KEYS, MASTER_KEYS):
            if (data_dir / rel).is_file():
                _stage_copy(data_dir / rel, files / rel)
                copied.append(rel)
    return copied


def _master_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    try:
        return set(json.loads(path.read_bytes())["keys"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{MASTER_KEYS} is not a master key file ({exc!r})") from None


def _wrapping_ids(path: Path) -> set[str]:
    """The master key ids the data keys in ``path`` are wrapped under."""
    if not path.is_file():
        return set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {kid for (kid,) in db.execute("SELECT DISTINCT kid FROM datakeys")}
    except sqlite3.OperationalError:
        return set()  # no table: a store never written to holds no keys
    finally:
        db.close()


def missing_master_keys(files: Path) -> str:
    """What is wrong with the key pair in the data dir (or its copy) ``files``: "" when every
    master key the data keys name is in its master key file, else which are not."""
    wanted, held = _wrapping_ids(files / DATA_KEYS), _master_ids(files / MASTER_KEYS)
    lacking = sorted(wanted - held)
    if not lacking:
        return ""
    return (
        f"the data keys ({DATA_KEYS}) are wrapped under master key {', '.join(lacking)}, which "
        f"{MASTER_KEYS} does not hold (it holds {', '.join(sorted(held)) or 'none'}): no "
        "customer's sealed values would open"
    )


def _state_files(data_dir: Path) -> list[Path]:
    """The hub's own files, relative, except the graph server's and lock/socket files."""
    out = []
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if rel.parts[0] in (GRAPH_DIR, STAGING_DIR) or rel == AUDIT_LOG or rel.name in AUDIT_INDEX:
            continue
        if path.is_file() and not path.is_symlink() and not path.name.endswith(SKIPPED_SUFFIXES):
            out.append(rel)
    return out


def _stage(
    data_dir: Path,
    stage: Path,
    graph_socket: Path | None,
    graph_name: str,
    progress: Progress,
    check_audit: Callable[[Path], None],
) -> tuple[dict[str, Any], list[tuple[str, Path]], GraphCounts | None, int]:
    """Copy what goes into the archive into ``stage``; returns the manifest, the entries (name
    in the archive, staged copy), the graph counts and the number of audit records."""
    counts = None
    entries: list[tuple[str, Path]] = []
    ingest = [rel for rel in _state_files(data_dir) if rel.parts[0] == INGEST_CHECKPOINTS]
    if ingest:
        # Before the snapshot: a checkpoint only ever passes what is written already (the
        # writer checkpoints a batch once it is in), so one copied earlier claims no more than
        # the snapshot taken later holds. After it, an import running meanwhile could advance
        # it past the snapshot, and the restored re-run would skip the rows in between.
        progress("import checkpoints")
        for rel in ingest:
            copy = stage / "files" / rel
            _stage_copy(data_dir / rel, copy)
            entries.append((f"files/{rel.as_posix()}", copy))
    if graph_socket is not None:
        progress("graph snapshot")
        rdb = stage / "dump.rdb"
        fetch_snapshot(graph_socket, rdb)
        progress("graph counts")
        counts = count(rdb, graph_name)
        entries.append((GRAPH_ENTRY, rdb))
    audit_records = 0
    if (data_dir / AUDIT_LOG).is_file():
        progress("audit log")
        copy = stage / "audit.log"
        audit_records = _copy_audit_log(data_dir / AUDIT_LOG, copy)
        progress("checking the audit chain")
        check_audit(copy)  # the copy: what a restore will check
        entries.append((f"files/{AUDIT_LOG.as_posix()}", copy))
    progress("keys, policies, checkpoints, models")
    pair = _stage_key_pair(data_dir, stage / "files", progress)
    if problem := missing_master_keys(stage / "files"):
        raise BackupError(
            f"{problem}. Nothing was written: run `c360 keys status`; a backup of this data "
            "dir could not be restored into one that serves"
        )
    entries += [(f"files/{rel.as_posix()}", stage / "files" / rel) for rel in pair]
    for rel in _state_files(data_dir):
        if rel.parts[0] == INGEST_CHECKPOINTS or rel in (DATA_KEYS, MASTER_KEYS):
            continue  # copied before the snapshot / as a pair above
        copy = stage / "files" / rel
        if rel == CHECKPOINT_LOG:
            _copy_checkpoints(data_dir / rel, copy, audit_records)
        else:
            _stage_copy(data_dir / rel, copy)
        entries.append((f"files/{rel.as_posix()}", copy))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": str(data_dir),
        "graph": None if counts is None else {"name": graph_name, **asdict(counts)},
        "audit_records": audit_records,
        "entries": {
            name: {"sha256": _sha256(path), "bytes": path.stat().st_size} for name, path in entries
        },
    }
    return manifest, entries, counts, audit_records


def _seal_tar(
    manifest: dict[str, Any], entries: list[tuple[str, Path]], out: BinaryIO, secret: Secret
) -> None:
    """Encrypt the tar as it is written (through a pipe, the tar written by a thread): no
    unencrypted tar of the whole backup ever lies on disk."""
    read_fd, write_fd = os.pipe()
    failed: list[BaseException] = []

    def write_tar() -> None:
        try:
            with os.fdopen(write_fd, "wb") as sink, tarfile.open(fileobj=sink, mode="w|") as tar:
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mode = len(body), 0o600
                tar.addfile(info, io.BytesIO(body))
                for name, path in entries:
                    tar.add(path, arcname=name, recursive=False)
        except BaseException as exc:  # re-raised below; the closed pipe ends the sealing
            failed.append(exc)

    writer = threading.Thread(target=write_tar, name="backup-tar", daemon=True)
    writer.start()
    try:
        with os.fdopen(read_fd, "rb") as source:
            seal(source, out, secret)
    finally:
        writer.join()  # a failed seal closed the pipe: the writer stops with EPIPE
    if failed:
        # The sealed file ends where the tar broke off: it must not become the archive.
        raise failed[0]


def make_backup(
    data_dir: Path,
    dest: Path,
    secret: Secret,
    *,
    graph_socket: Path | None,
    graph_name: str = "c360",
    progress: Progress = lambda _: None,
    check_audit: Callable[[Path], None] = lambda _: None,
) -> BackupSummary:
    """Write a sealed backup of ``data_dir`` to ``dest``. ``graph_socket`` is the running
    embedded server's socket (None: no graph in the backup, e.g. Neo4j). ``check_audit`` is
    given the staged copy of the audit log (raises BackupError: nothing is written)."""
    if dest.exists():
        raise BackupError(f"{dest} exists; give another --to")
    with staging(data_dir / STAGING_DIR) as (stage_dir, removed):
        for path in removed:
            progress(f"removed the staging of a killed backup or restore: {path.name}")
        stage = stage_dir.path
        partial = dest.with_name(dest.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise BackupError(
                f"{partial} exists: another backup is writing {dest.name}, or one of another "
                "data dir was killed; give another --to or remove it"
            ) from None
        try:
            with os.fdopen(fd, "wb") as out:
                stage_dir.claim(partial)  # reserved first: a kill at any step leaves it named
                manifest, entries, counts, audit_records = _stage(
                    data_dir, stage, graph_socket, graph_name, progress, check_audit
                )
                progress("encrypting")
                _seal_tar(manifest, entries, out, secret)
                out.flush()
                os.fsync(out.fileno())
            partial.rename(dest)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    size = sum(int(e["bytes"]) for e in manifest["entries"].values())
    return BackupSummary(len(entries), size, counts, audit_records)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BackupError("the backup has no manifest")
    manifest: dict[str, Any] = json.loads(path.read_bytes())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not supported")
    return manifest


class _Plaintext(io.RawIOBase):
    """The decrypted archive as a stream, chunk by authenticated chunk (for a streamed tar)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def _unpack(archive: Path, secret: Secret, unpacked: Path) -> None:
    """Decrypt and untar in one pass: no unencrypted tar of the whole backup on disk."""
    try:
        with archive.open("rb") as src:
            chunks = open_sealed(src, secret)
            with tarfile.open(fileobj=io.BufferedReader(_Plaintext(chunks)), mode="r|") as tar:
                tar.extractall(unpacked, filter="data")
            for _ in chunks:  # the tar's end is not the file's: authenticate up to the last
                pass
    except SealError as exc:
        raise BackupError(str(exc)) from exc
    except tarfile.TarError as exc:
        raise BackupError(f"the backup's contents are damaged: {exc}") from exc


def restore_backup(
    archive: Path,
    target: Path,
    secret: Secret,
    progress: Progress = lambda _: None,
    check: Callable[[Path], None] = lambda _: None,
) -> tuple[dict[str, Any], GraphCounts | None]:
    """Restore into ``target`` (missing or empty). Checks every checksum and the graph counts
    against the manifest, then ``check`` (on the staged data dir: raises BackupError); on any
    failure ``target`` is left as it was (empty). Stages inside ``target`` (0700): a killed
    restore's staging is removed by the next restore there."""
    if target.is_dir():  # a restore killed here left its staging: not the user's files
        remove_stale(target / STAGING_DIR, prune=True)
        # A command of this c360 that opened the empty target marked it; the archive's
        # files (and its own marker, checked below) take its place.
        if [p.name for p in target.iterdir()] == [FORMAT_FILE]:
            (target / FORMAT_FILE).unlink()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not empty: restore only into a new or empty directory")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with staging(target / STAGING_DIR) as (stage_dir, _):
            return _restore_staged(archive, target, secret, stage_dir.path, progress, check)
    finally:
        remove_stale(target / STAGING_DIR, prune=True)  # on failure the target stays empty


def _restore_staged(
    archive: Path,
    target: Path,
    secret: Secret,
    stage: Path,
    progress: Progress,
    check: Callable[[Path], None],
) -> tuple[dict[str, Any], GraphCounts | None]:
    unpacked = stage / "unpacked"
    progress("decrypting")
    _unpack(archive, secret, unpacked)
    manifest = _read_manifest(unpacked / "manifest.json")
    progress("checking checksums")
    for name, meta in manifest["entries"].items():
        path = unpacked / name
        if not path.is_file() or _sha256(path) != meta["sha256"]:
            raise BackupError(f"{name} does not match its checksum in the manifest")
    restored = stage / "data"
    if (unpacked / "files").is_dir():
        shutil.copytree(unpacked / "files", restored)
    restored.mkdir(exist_ok=True)
    counts = None
    if manifest.get("graph"):
        progress("loading the graph snapshot")
        graph = manifest["graph"]
        counts = materialise(unpacked / GRAPH_ENTRY, restored / GRAPH_DIR, graph["name"])
        expected = GraphCounts(int(graph["nodes"]), int(graph["relationships"]))
        if counts != expected:
            raise BackupError(f"the restored graph has {counts}, the manifest {expected}")
    for path in [restored, *restored.rglob("*")]:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    try:
        check_format(restored)  # a newer c360's archive: this one must not open it
    except FormatError as exc:
        raise BackupError(f"{exc}; nothing was restored") from None
    if problem := missing_master_keys(restored):
        # A backup taken during a master key rotation by a version without the rotation lock.
        raise BackupError(
            f"the archive is not usable: {problem}. Nothing was restored: restore another "
            "archive (one taken while no `c360 keys rotate-master --retire-old` ran)"
        )
    check(restored)
    for child in restored.iterdir():
        child.rename(target / child.name)
    return manifest, counts
