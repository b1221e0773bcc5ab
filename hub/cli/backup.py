"""`c360 backup` and `c360 restore`: sealed, online, point-in-time archives of a data dir."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from graph.errors import GraphUnavailable
from hub.backup import BackupError, make_backup, restore_backup
from hub.cli.common import (
    console,
    err_console,
    fail,
    graph,
    load_settings,
    output_folder,
    run,
)
from hub.cli.erase import (
    Reapplied,
    UntiedOption,
    reapply,
    ring_in,
    skipped_note,
    untied_choice,
    untied_entries,
    untied_note,
    untied_skipped_note,
)
from hub.sealed import SealError, Secret
from privacy.audit import AuditLog
from privacy.audit_ring import RING_ENV, RING_FILE, log_ring
from privacy.erasure_ledger import LEDGER_FILE, LedgerError, mirror_paths
from privacy.keyring import KeyRingError
from shared.hub_id import hub_id, read_hub_id
from shared.settings import Settings

PASSPHRASE_ENV = "C360_BACKUP_PASSPHRASE"
GRAPH_SOCKET = Path("falkordb") / "falkordb.sock"

PassphraseFile = Annotated[
    Path | None,
    typer.Option(help=f"a file whose first line is the passphrase (else ${PASSPHRASE_ENV})"),
]
KeyFile = Annotated[
    Path | None, typer.Option(help="a file of 32 random bytes (raw or base64) instead")
]


def _secret(passphrase_file: Path | None, key_file: Path | None) -> Secret:
    try:
        if key_file is not None:
            return Secret.from_key_file(key_file)
        if passphrase_file is not None:
            lines = passphrase_file.read_text(encoding="utf-8").splitlines()
            phrase = lines[0] if lines else ""
        else:
            phrase = os.environ.get(PASSPHRASE_ENV, "")
    except (OSError, SealError) as exc:
        fail(str(exc))
    if len(phrase) < 12:
        fail(
            f"a backup holds the keys: give a passphrase of 12+ characters ({PASSPHRASE_ENV} "
            "or --passphrase-file), or --key-file"
        )
    return Secret(passphrase=phrase.encode())


def _progress(step: str) -> None:
    console.print(f"  {step} ...", highlight=False)


async def _backup(dest: Path, secret: Secret, no_graph: bool) -> None:
    settings = load_settings()
    data_dir = settings.resolved_data_dir
    if not data_dir.is_dir():
        fail(f"no data dir at {data_dir}; set C360_DATA_DIR")
    if settings.graph_url and not no_graph:
        fail(
            "the graph is an external server (C360_GRAPH_URL): back it up with its own tool "
            "(neo4j-admin database dump) and run `c360 backup --no-graph` for the hub's state"
        )
    # The archive names its hub: a restore of it applies this hub's erasure ledgers only.
    hub_id(data_dir)
    check = _archived_chain_check(data_dir, settings.audit_keys)
    if no_graph:
        summary = await asyncio.to_thread(
            make_backup, data_dir, dest, secret, graph_socket=None, progress=_progress,
            check_audit=check,
        )  # fmt: skip
    else:
        # Join (or start) the embedded server; the snapshot is taken over its socket.
        async with graph(settings):
            summary = await asyncio.to_thread(
                make_backup, data_dir, dest, secret,
                graph_socket=data_dir / GRAPH_SOCKET, graph_name=settings.graph_name,
                progress=_progress, check_audit=check,
            )  # fmt: skip
    graph_note = (
        f"graph {summary.graph.nodes} nodes, {summary.graph.relationships} relationships"
        if summary.graph is not None
        else "no graph (--no-graph)"
    )
    console.print(
        f"backup written: {dest} ({summary.files} entries, {summary.bytes / 1e6:.1f} MB; "
        f"{graph_note}; {summary.audit_records} audit records)"
    )


def _archived_chain_check(data_dir: Path, env_keys: str) -> Callable[[Path], None]:
    """What checks the staged copy of ``data_dir``'s audit log: its whole chain, as a restore
    checks it (a restore refuses an archive whose chain is broken, so such a backup would be
    no backup), with the key ring that opens the live log's last record (log_ring)."""

    def check(copy: Path) -> None:
        try:
            found = log_ring(data_dir, env_keys)
        except KeyRingError as exc:
            # Not the backup's to fix: the restore asks for the keys (C360_AUDIT_KEYS).
            err_console.print(f"[yellow]warning:[/] the audit chain was not checked: {exc}")
            return
        if found is None:
            return  # no log, no ring: nothing to check
        result = AuditLog(copy.parent, found[1]).verify()
        if not result.ok:
            raise BackupError(
                f"the audit log does not verify at seq {result.first_bad_seq}: "
                f"{result.reason}. Nothing was written (a restore refuses an archive whose "
                "audit chain is broken): see `c360 audit verify`, and restore audit/audit.log "
                "from an earlier backup"
            )

    return check


def backup(
    to: Annotated[
        Path | None, typer.Option(help="archive path (default c360-backup-<UTC time>.c360bak)")
    ] = None,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    no_graph: Annotated[
        bool, typer.Option("--no-graph", help="leave the graph out (Neo4j: use neo4j-admin)")
    ] = False,
) -> None:
    """Archive the data dir while the hub serves: graph snapshot, keys, audit log, policies,
    checkpoints, models; encrypted, with a manifest of checksums and graph counts."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = (to or Path(f"c360-backup-{stamp}.c360bak")).resolve()
    output_folder(dest, "--to")  # the path first, as restore names a missing archive first
    secret = _secret(passphrase_file, key_file)
    try:
        run(_backup(dest, secret, no_graph))
    except (BackupError, GraphUnavailable, OSError) as exc:
        fail(f"backup failed: {exc}")


def restore(
    archive: Annotated[Path, typer.Argument(help="a file written by `c360 backup`")],
    to: Annotated[
        Path | None, typer.Option(help="an empty or new data dir (default C360_DATA_DIR)")
    ] = None,
    passphrase_file: PassphraseFile = None,
    key_file: KeyFile = None,
    erasures: Annotated[
        list[Path] | None,
        typer.Option(
            help="an erasure ledger to re-apply besides the archive's, the live data "
            "dir's and C360_ERASURE_LEDGER's"
        ),
    ] = None,
    any_hub: Annotated[
        bool,
        typer.Option(
            "--any-hub",
            help="also apply erasure ledger entries written by another hub (another hub id "
            "than the archive's); by default they are skipped and listed",
        ),
    ] = False,
    untied: UntiedOption = None,
) -> None:
    """Restore a backup into an empty data dir, checking every checksum and the graph counts;
    then erase again every customer an erasure ledger names (an older backup still holds
    their data keys)."""
    # The files first: a missing archive is the mistake to name, not the passphrase.
    if not archive.is_file():
        fail(f"no backup at {archive}")
    extra = list(erasures or [])
    for path in extra:
        if not path.is_file():
            fail(f"no erasure ledger at {path}")
    choice = untied_choice(untied)
    secret = _secret(passphrase_file, key_file)
    settings = load_settings()
    live = settings.data_dir_path
    target = (to or live).resolve()
    rings: list[str | None] = []  # which key ring opens the archived audit log (log_ring)

    def check(staged: Path) -> None:
        rings.append(_audit_ring(staged, settings))
        if not any_hub and choice is None:
            _refuse_untied(staged, [*mirror_paths(settings.erasure_ledger), *extra])

    if live != target and live.is_dir():
        # Opening the live data dir brings its erasures from before the ledger into it
        # (privacy/erasure_upgrade.py), so the archive's copies of them are erased too; before
        # anything is restored, so a live dir that cannot be opened stops the restore here
        # rather than between the restored files and their erasures.
        settings.resolved_data_dir  # noqa: B018 - the open is the upgrade
    if live != target and (live / LEDGER_FILE).is_file():
        extra.append(live / LEDGER_FILE)
    try:
        manifest, counts = restore_backup(archive, target, secret, _progress, check=check)
    except (BackupError, GraphUnavailable, OSError) as exc:
        fail(f"restore failed: {exc}")
    _reapply_erasures(settings, target, extra, any_hub, rings[0], choice)
    graph_note = (
        f"graph {counts.nodes} nodes, {counts.relationships} relationships (as in the manifest)"
        if counts is not None
        else "no graph in this backup"
    )
    console.print(
        f"restored {archive} (taken {manifest['created']}) into {target}: {graph_note}; "
        f"{manifest['audit_records']} audit records. Next: C360_DATA_DIR={target} "
        "c360 audit verify"
    )


def _audit_ring(data_dir: Path, settings: Settings) -> str | None:
    """Before the restored files go in place: a key ring at hand opens the archived audit log
    (the restore appends to it), and its chain verifies with it; which one (``log_ring``'s
    name, None: none yet). BackupError (the target stays empty) when none does, or the chain
    is broken."""
    try:
        found = log_ring(data_dir, settings.audit_keys)
    except KeyRingError as exc:
        raise BackupError(f"{exc}; nothing was restored") from exc
    if found is None:
        return None
    result = AuditLog(data_dir / "audit", found[1]).verify()
    if not result.ok:
        raise BackupError(
            f"the archive's audit log does not verify at seq {result.first_bad_seq}: "
            f"{result.reason}; nothing was restored. This archive cannot be restored as it is: "
            "restore an earlier archive"
        )
    return found[0]


def _refuse_untied(staged: Path, others: list[Path]) -> None:
    """Before the restored files go in place: BackupError (the target stays empty) when the
    ledgers besides the archive's own hold erasures no hub id ties to the archive's hub."""
    try:
        found = untied_entries(staged / LEDGER_FILE, others, read_hub_id(staged))
    except (LedgerError, OSError) as exc:
        raise BackupError(f"{exc}; nothing was restored") from exc
    if found:
        raise BackupError(
            untied_note(found, read_hub_id(staged), "the restore again") + "; nothing was restored"
        )


def _reapply_erasures(
    settings: Settings,
    target: Path,
    extra: list[Path],
    any_hub: bool,
    ring: str | None,
    untied: str | None,
) -> None:
    """Erase the ledgers' customers again in the restored ``target``, audited with ``ring``
    (the key ring the staged check found), then verify its audit chain."""
    restored = Settings(**{**settings.model_dump(), "data_dir": target})
    if not settings.erasure_ledger.strip():
        err_console.print(
            "[yellow]warning:[/] C360_ERASURE_LEDGER is not set: only the archive's and the "
            "live data dir's erasure ledgers were re-applied. Keep a mirror outside the data "
            "dir so that a restore after losing it erases the same customers."
        )
    dont = f"The restored dir {target} may hold erased customers: do not serve it"
    try:
        found = ring_in(ring, target, settings.audit_keys)
        done = run(reapply(restored, extra, any_hub, found=found, untied=untied))
    except (LedgerError, KeyRingError) as exc:
        fail(
            f"{exc}. {dont}; fix the ledger and run `c360 erase --reapply` with C360_DATA_DIR on it"
        )
    if done.skipped:
        again = (
            f"`C360_DATA_DIR={target} c360 erase --reapply --any-hub` with the same ledgers "
            "(--erasures FILE for the live data dir's)"
        )
        err_console.print(f"[yellow]warning:[/] {skipped_note(done.skipped, again)}")
    if done.untied:
        again = f"`C360_DATA_DIR={target} c360 erase --reapply` with the same ledgers and"
        err_console.print(f"[yellow]warning:[/] {untied_skipped_note(done.untied, again)}")
    for torn in done.torn:
        err_console.print(f"[yellow]warning:[/] {torn.describe()}")
    if done.total:
        console.print(
            f"erasure ledgers: {done.total} erased customers; erased again in the restored "
            f"dir: {len(done.redone)} "
            f"({', '.join(r['customer_id'] for r in done.redone) or 'none'})"
        )
    _verify_audit(restored, done)


def _verify_audit(restored: Settings, done: Reapplied) -> None:
    """The restored audit chain verifies with the key ring the restore appended under; and
    the operator is told which one the restored hub must run with."""
    data_dir = restored.resolved_data_dir
    result = AuditLog(data_dir / "audit", done.keys).verify()
    if not result.ok:
        # The archived chain verified before the files went in place (_audit_ring): what
        # broke it is what was appended since, by the re-applied erasures or another process.
        fail(
            f"the restored audit log does not verify at seq {result.first_bad_seq}: "
            f"{result.reason}, after the erasures were re-applied. Do not serve {data_dir}; "
            "empty it and run the restore again"
        )
    if done.ring == RING_FILE and restored.audit_keys.strip():
        err_console.print(
            f"[yellow]note:[/] the restored audit log was written with {RING_FILE}, not "
            f"C360_AUDIT_KEYS: run the restored hub without C360_AUDIT_KEYS"
        )
    elif done.ring == RING_ENV:
        err_console.print(
            "[yellow]note:[/] the restored audit log was written with C360_AUDIT_KEYS: run "
            "the restored hub with the same C360_AUDIT_KEYS"
        )
