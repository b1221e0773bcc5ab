"""`c360 backup` and `c360 restore`: sealed, online, point-in-time archives of a data dir."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from graph.errors import GraphUnavailable
from hub.backup import BackupError, make_backup, restore_backup
from hub.cli.common import console, err_console, fail, graph, load_settings, run
from hub.cli.erase import reapply
from hub.sealed import SealError, Secret
from privacy.erasure_ledger import LEDGER_FILE, LedgerError
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
    if no_graph:
        summary = await asyncio.to_thread(
            make_backup, data_dir, dest, secret, graph_socket=None, progress=_progress
        )
    else:
        # Join (or start) the embedded server; the snapshot is taken over its socket.
        async with graph(settings):
            summary = await asyncio.to_thread(
                make_backup, data_dir, dest, secret,
                graph_socket=data_dir / GRAPH_SOCKET, graph_name=settings.graph_name,
                progress=_progress,
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
    secret = _secret(passphrase_file, key_file)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = (to or Path(f"c360-backup-{stamp}.c360bak")).resolve()
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
    secret = _secret(passphrase_file, key_file)
    settings = load_settings()
    live = settings.data_dir.expanduser().resolve()
    target = (to or live).resolve()
    try:
        manifest, counts = restore_backup(archive, target, secret, _progress)
    except (BackupError, GraphUnavailable, OSError) as exc:
        fail(f"restore failed: {exc}")
    if live != target and (live / LEDGER_FILE).is_file():
        extra.append(live / LEDGER_FILE)
    _reapply_erasures(settings, target, extra)
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


def _reapply_erasures(settings: Settings, target: Path, extra: list[Path]) -> None:
    restored = Settings(**{**settings.model_dump(), "data_dir": target})
    if not settings.erasure_ledger.strip():
        err_console.print(
            "[yellow]warning:[/] C360_ERASURE_LEDGER is not set: only the archive's and the "
            "live data dir's erasure ledgers were re-applied. Keep a mirror outside the data "
            "dir so that a restore after losing it erases the same customers."
        )
    try:
        total, redone = run(reapply(restored, extra))
    except LedgerError as exc:
        fail(
            f"{exc}. The restored dir {target} may hold erased customers: do not serve it; "
            "fix the ledger and run `c360 erase --reapply` with C360_DATA_DIR on it"
        )
    if total:
        console.print(
            f"erasure ledgers: {total} erased customers; erased again in the restored dir: "
            f"{len(redone)} ({', '.join(r['customer_id'] for r in redone) or 'none'})"
        )
