"""`c360 audit reanchor`: acknowledge a real loss of audit records on the record and sign a
fresh first checkpoint (privacy/audit_reanchor.py), so checkpoints resume."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hub.cli import audit_proofs
from hub.cli.common import console, fail, load_settings, os_user
from privacy.audit_checkpoints import CheckpointRefused, load_signing_key, send_to_witness
from privacy.audit_reanchor import NothingToReanchor, Reanchor, Reanchored, open_reanchor
from privacy.types import AuditUnavailable


def reanchor(
    reason: Annotated[
        str,
        typer.Option(help="why the records are gone and cannot be restored (audited; a ticket)"),
    ],
    actor: Annotated[
        str | None,
        typer.Option(help="who re-anchors (audited); default: the OS user running this"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """After a loss nothing can restore: record it in the audit log, keep the old checkpoint
    log aside and sign a fresh first checkpoint. Only when checkpoints are paused because the
    log no longer extends the last signed checkpoint."""
    if not reason.strip():
        fail("--reason is empty: say why the records are gone (e.g. a ticket); it is audited")
    who = (actor if actor is not None else os_user("--actor")).strip()
    if not who:
        fail("--actor is empty: give who re-anchors (it is audited)")
    settings = load_settings()
    try:
        key = load_signing_key(settings.resolved_data_dir, settings.audit_signing_key)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    ring = audit_proofs.open_keyring()
    audit_dir = settings.resolved_data_dir / "audit"
    try:
        # The prompt waits outside the checkpoint log's lock (a hub's signer appending would
        # wait on it); the loss is checked again under the lock and must be the one shown.
        with open_reanchor(audit_dir, key, ring) as found:
            _show_loss(found)
            shown = found.lost
            if yes:  # nobody to wait for: one check of the log, under the lock
                done = found.run(who, reason.strip())
        if not yes:
            typer.confirm(
                f"Record this loss as {who} and sign a fresh first checkpoint?", abort=True
            )
            with open_reanchor(audit_dir, key, ring) as found:
                if found.lost != shown:
                    fail(
                        "the checkpoint log changed while you were asked: run the command again",
                        1,
                    )
                done = found.run(who, reason.strip())
    except NothingToReanchor as exc:
        fail(str(exc), 1)
    except CheckpointRefused as exc:
        fail(f"no checkpoint signed: {exc}", 1)
    except (AuditUnavailable, OSError) as exc:
        fail(
            f"the re-anchor stopped: {exc}. The checkpoint log was not replaced, checkpoints "
            "stay paused: fix that and run the command again",
            1,
        )
    witness = ""
    if settings.audit_witness_url:
        sent = send_to_witness(settings.audit_witness_url, done.checkpoint)
        witness = "taken" if sent else "[red]not taken[/] (see the warning above; send it by hand)"
    _show_done(done, who, witness)


def _table(title: str) -> Table:
    """Two columns, values folded rather than cut: roots and keys are evidence, whole."""
    table = Table(title=title, show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _show_loss(found: Reanchor) -> None:
    lost = found.lost
    console.print(f"[yellow]checkpoints are paused:[/] {found.problem}")
    table = _table("the loss to re-anchor")
    table.add_row("last signed checkpoint", f"{lost.size} records, signed {lost.time}")
    table.add_row("  its root", lost.root)
    table.add_row("  its key", lost.key)
    table.add_row("audit log now", f"{found.log_size} records")
    table.add_row("  its root", found.log_root)
    console.print(table)


def _show_done(done: Reanchored, who: str, witness: str) -> None:
    cp = done.checkpoint
    table = _table("audit checkpoints re-anchored")
    table.add_row("audit record", f"seq {done.record_seq} (operation `audit reanchor`, by {who})")
    table.add_row("lost checkpoint", f"{done.lost.size} records, root {done.lost.root}")
    table.add_row("log before the record", f"{done.log_size} records, root {done.log_root}")
    table.add_row("fresh checkpoint", f"{cp.size} records, root {cp.root}, signed {cp.time}")
    table.add_row("  its key", cp.key)
    table.add_row("old checkpoint log kept as", str(done.kept_as))
    if witness:
        table.add_row("witness (C360_AUDIT_WITNESS_URL)", witness)
    console.print(table)
    console.print(
        "A running hub signs on from the fresh checkpoint at its next attempt (within "
        "C360_AUDIT_CHECKPOINT_INTERVAL_S), no restart. `c360 audit verify` passes again.\n"
        f"The old checkpoint log is kept at {done.kept_as} (evidence: keep it, never edit it).\n"
        f"Tell whoever holds copies of the checkpoints (witnesses, tickets): the audit log no "
        f"longer extends checkpoint {done.lost.size} (root {done.lost.root}) and never will "
        f"again; keep it as evidence (`verify --checkpoint` on it reports the loss). New "
        f"checkpoints start from {cp.size} records (root {cp.root}); audit record "
        f"{done.record_seq} says who re-anchored and why."
    )
