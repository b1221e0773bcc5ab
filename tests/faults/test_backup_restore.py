"""A backup taken while the hub serves writes restores into a new dir with the manifest's
graph counts and a verifying audit chain, and the restored dir serves."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from graph.connect import open_store
from graph.store import SCHEMA_LABEL, GraphStore
from hub.backup import BackupError, make_backup, restore_backup
from hub.sealed import Secret
from hub.staging import STAGING_DIR, staging
from privacy.audit import AuditLog, make_record
from privacy.audit_checkpoints import Checkpointer, read_checkpoint_log
from privacy.keyring import KeyRing
from tests.faults.ops_hub import UPSERT, Caller, codes, hub_client

SECRET = Secret(passphrase=b"correct horse battery staple")


@pytest.fixture
def graph_socket(session_data_dir: Path) -> Path:
    if os.environ.get("C360_TEST_GRAPH_URL"):
        pytest.skip("backs up the embedded graph; this run uses an external one")
    return session_data_dir / "falkordb" / "falkordb.sock"


async def test_backup_under_writes_restores_with_equal_counts_and_a_verifying_chain(
    store: GraphStore, data_dir: Path, graph_socket: Path, short_dir: Path
) -> None:
    archive = short_dir / "b.c360bak"
    before: list[str] = []
    during: list[str] = []
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        for n in range(20):
            body = await agent.gql(UPSERT, {"input": {"id": f"b-{n}", "name": "赵敏"}})
            assert codes(body) == [], body
            before.append(f"b-{n}")

        stop = asyncio.Event()

        async def writer() -> None:
            n = 0
            while not stop.is_set() and n < 10_000:
                body = await agent.gql(UPSERT, {"input": {"id": f"w-{n}", "name": "钱多"}})
                assert codes(body) == [], body
                during.append(f"w-{n}")
                n += 1

        task = asyncio.create_task(writer())
        summary = await asyncio.to_thread(
            make_backup, data_dir, archive, SECRET, graph_socket=graph_socket
        )
        stop.set()
        await task
    assert during, "no write ran while the backup was taken"
    assert summary.graph is not None and summary.graph.nodes >= len(before)

    (short_dir / "busy").mkdir()
    (short_dir / "busy" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, short_dir / "busy", SECRET)
    with pytest.raises(BackupError, match="wrong passphrase"):
        restore_backup(archive, short_dir / "r0", Secret(passphrase=b"not the passphrase"))
    assert not any((short_dir / "r0").iterdir())

    target = short_dir / "r"
    manifest, counts = restore_backup(archive, target, SECRET)
    assert counts == summary.graph
    assert (manifest["graph"]["nodes"], manifest["graph"]["relationships"]) == (
        summary.graph.nodes,
        summary.graph.relationships,
    )
    for name in ("keys/audit-keyring.json", "keys/jwt.key", "keys/mask-hmac.key"):
        assert (target / name).read_bytes() == (data_dir / name).read_bytes()
    audit = AuditLog(target / "audit", KeyRing.load(target)).verify()
    assert audit.ok, audit.reason
    assert audit.count == manifest["audit_records"] > 0

    # Serve the restored dir: its own embedded graph, the counts of the manifest.
    # Opening it records the open-time upgrades on the graph's marker node (graph.connect
    # run_upgrades), which the backed-up graph did not have yet: the data's nodes are compared.
    marked = await store.read(f"MATCH (n:{SCHEMA_LABEL}) RETURN count(n) AS n")
    restored = await open_store(target, "")
    try:
        nodes = await restored.read(f"MATCH (n) WHERE NOT n:{SCHEMA_LABEL} RETURN count(n) AS n")
        rels = await restored.read("MATCH ()-[r]->() RETURN count(r) AS n")
        assert (nodes[0]["n"], rels[0]["n"]) == (
            counts.nodes - marked[0]["n"],
            counts.relationships,
        )
        async with hub_client(restored, target) as client:
            officer = Caller(client, target, "privacy_officer", "compliance")
            for cid in before:  # acknowledged before the backup began: all there
                body = await officer.gql(
                    "query($id: ID!) { customer(id: $id) { id } }", {"id": cid}
                )
                assert body["data"]["customer"] == {"id": cid}, body
    finally:
        await restored.close()
    after = AuditLog(target / "audit", KeyRing.load(target)).verify()
    assert after.ok and after.count > audit.count  # the restored hub appends to the chain


def test_a_key_file_backup_needs_the_key_file(data_dir: Path, short_dir: Path) -> None:
    KeyRing.load(data_dir)
    key = short_dir / "k"
    key.write_bytes(os.urandom(32))
    archive = short_dir / "nograph.c360bak"
    summary = make_backup(data_dir, archive, Secret.from_key_file(key), graph_socket=None)
    assert summary.graph is None
    with pytest.raises(BackupError, match="key file"):
        restore_backup(archive, short_dir / "r1", SECRET)
    manifest, counts = restore_backup(archive, short_dir / "r2", Secret.from_key_file(key))
    assert counts is None and manifest["graph"] is None
    assert (short_dir / "r2" / "keys" / "audit-keyring.json").is_file()


def test_files_written_during_the_backup_restore_consistent(short_dir: Path) -> None:
    """A database and a file that change all through the backup (the data-key store gains a
    key per new customer) are archived as one instant each: checksums match, the database
    opens whole with its committed rows only, and a key store keeps its 0600 mode."""
    source = short_dir / "src"
    (source / "keys").mkdir(parents=True)
    db_path = source / "keys" / "busy.sqlite"
    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE k (n INTEGER)")
    os.chmod(db_path, 0o600)
    log = source / "keys" / "busy.txt"
    log.write_text("")
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            db.execute("INSERT INTO k VALUES (?)", (n,))
            with log.open("a") as f:
                f.write(f"{n}\n")
            n += 1

    def progress(step: str) -> None:
        if step.startswith("keys"):
            threading.Thread(target=write, daemon=True).start()
            time.sleep(0.2)  # the writer is well under way while files are read

    try:
        make_backup(source, short_dir / "b.c360bak", SECRET, graph_socket=None, progress=progress)
    finally:
        stop.set()
    restore_backup(short_dir / "b.c360bak", short_dir / "r", SECRET)
    restored = sqlite3.connect(short_dir / "r" / "keys" / "busy.sqlite")
    assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert restored.execute("SELECT count(*) FROM k").fetchone()[0] > 0
    assert (short_dir / "r" / "keys" / "busy.sqlite").stat().st_mode & 0o777 == 0o600


def _chunk_ends(sealed: bytes) -> list[int]:
    """Offsets where each sealed chunk ends (hub/sealed.py: header line, then chunks of
    [4-byte length][12-byte nonce][ciphertext])."""
    offset = sealed.index(b"\n") + 1
    ends = []
    while offset < len(sealed):
        offset += 4 + 12 + int.from_bytes(sealed[offset : offset + 4], "big")
        ends.append(offset)
    return ends


def test_a_cut_archive_is_named_and_leaves_the_target_empty(short_dir: Path) -> None:
    """The archive is decrypted and unpacked as one stream: a cut one still fails, named cut
    or damaged (also when exactly its last chunk is missing), and what was unpacked before
    the cut is removed with the stage."""
    source = short_dir / "src"
    (source / "models").mkdir(parents=True)
    (source / "models" / "big.bin").write_bytes(os.urandom(3 << 20))
    archive = short_dir / "b.c360bak"
    make_backup(source, archive, SECRET, graph_socket=None)
    assert not (source / "tmp").exists() or not any((source / "tmp").glob("c360-stage-*"))
    sealed = archive.read_bytes()
    ends = _chunk_ends(sealed)
    assert len(ends) >= 4 and ends[-1] == len(sealed)
    for n, cut in enumerate((ends[-2], len(sealed) // 2)):
        cut_archive = short_dir / f"cut{n}.c360bak"
        cut_archive.write_bytes(sealed[:cut])
        target = short_dir / f"r{n}"
        with pytest.raises(BackupError, match=r"truncated|damaged"):
            restore_backup(cut_archive, target, SECRET)
        assert list(target.iterdir()) == []
    restore_backup(archive, short_dir / "whole", SECRET)
    assert (short_dir / "whole" / "models" / "big.bin").read_bytes() == (
        source / "models" / "big.bin"
    ).read_bytes()


def test_a_running_backups_stage_is_not_removed(short_dir: Path) -> None:
    """Stages are removed only when no live run holds their lock: a backup that runs while
    another one stages (here: a stage held by this process) leaves that one alone."""
    source = short_dir / "src"
    source.mkdir()
    KeyRing.load(source)
    with staging(source / STAGING_DIR) as (held, _):
        (held.path / "dump.rdb").write_bytes(b"in use")
        make_backup(source, short_dir / "b.c360bak", SECRET, graph_socket=None)
        assert (held.path / "dump.rdb").read_bytes() == b"in use"
    assert not held.path.exists()
    manifest, _ = restore_backup(short_dir / "b.c360bak", short_dir / "r", SECRET)
    assert not any(name.startswith(f"files/{STAGING_DIR}/") for name in manifest["entries"])


def test_a_symlinked_staging_root_is_refused(short_dir: Path) -> None:
    # Review, session 17: tmp/ as a link sent the plaintext stage (and a chmod) wherever it led.
    elsewhere = short_dir / "elsewhere"
    elsewhere.mkdir()
    elsewhere.chmod(0o755)  # whatever the process's umask (the hub's start sets 077)
    source = short_dir / "src"
    source.mkdir()
    (source / STAGING_DIR).symlink_to(elsewhere)
    with pytest.raises(OSError, match="symbolic link"), staging(source / STAGING_DIR) as (held, _):
        pytest.fail(f"staged in {held.path}, through the link")
    assert list(elsewhere.iterdir()) == [] and elsewhere.stat().st_mode & 0o777 == 0o755


def test_a_checkpoint_signed_during_the_backup_does_not_pause_the_restored_hub(
    short_dir: Path,
) -> None:
    """The audit log is copied first, the checkpoint log later: a checkpoint the hub signs in
    between covers records the backup lacks. The archive holds only the checkpoints its audit
    log reaches, so the restored hub's signer goes on signing."""
    source = short_dir / "src"
    (source / "audit").mkdir(parents=True)
    ring = KeyRing.load(source)
    audit = AuditLog(source / "audit", ring)

    def add(n: int) -> None:
        async def go() -> None:
            for _ in range(n):
                await audit.append(make_record(principal=None, operation="q", outcome="ok"))

        asyncio.run(go())

    add(10)
    key = Ed25519PrivateKey.generate()
    signer = Checkpointer(source / "audit" / "audit.log", key, every=1, keyring=ring)
    first = signer.tick(0)
    assert first is not None and first.size == 10

    def progress(step: str) -> None:
        if step.startswith("keys"):  # the audit log is copied; the checkpoints are not yet
            add(5)
            meanwhile = signer.tick(1e9)
            assert meanwhile is not None and meanwhile.size == 15

    try:
        make_backup(source, short_dir / "b.c360bak", SECRET, graph_socket=None, progress=progress)
    finally:
        audit.close()
    target = short_dir / "r"
    manifest, _ = restore_backup(short_dir / "b.c360bak", target, SECRET)
    assert manifest["audit_records"] == 10
    restored = Checkpointer(target / "audit" / "audit.log", key, keyring=KeyRing.load(target))
    assert restored.check() == ""
    kept = read_checkpoint_log((target / "audit" / "checkpoints.jsonl").read_text())
    assert [cp.size for cp in kept] == [10]
