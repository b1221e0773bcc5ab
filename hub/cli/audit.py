"""`c360 audit ...`: verify the hash chain, show records, rotate the key."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli import audit_proofs, audit_reanchor
from hub.cli.common import console, fail, load_settings
from privacy.audit import AuditLog, AuditRecordUnreadable
from privacy.audit_checkpoints import CHECKPOINT_LOG
from privacy.keyring import KeyRing, KeyRingError

app = typer.Typer(no_args_is_help=True, help="The encrypted, hash-chained audit log.")


def _open(read_only: bool = False) -> tuple[AuditLog, KeyRing]:
    """``read_only``: nothing in the data dir is created, locked or changed (``verify`` of a
    read-only forensic copy)."""
    ring = audit_proofs.open_keyring(read_only)
    settings = load_settings()
    data_dir = settings.readable_data_dir if read_only else settings.resolved_data_dir
    return AuditLog(data_dir / "audit", ring), ring


@app.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="also check the log against this signed checkpoint (default: the latest in "
            "the data dir's audit/checkpoints.jsonl, when there is one)"
        ),
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="the checkpoint key (hex or file); default: this hub's")
    ] = None,
) -> None:
    """Check every record's hash, order, link and encryption; name the first bad one."""
    log, _ = _open(read_only=True)
    result = log.verify()
    for seq, details in result.repairs:
        cuts = details.get("cuts", [])
        cut = sum(int(c.get("truncated_bytes", 0)) for c in cuts)
        console.print(f"repair at seq {seq}: the log cut {cut} bytes of torn or failed writes")
    if result.ok:
        console.print(f"OK {result.count} records")
    else:
        console.print(
            f"[red]BROKEN[/] at seq {result.first_bad_seq}: {result.reason} "
            f"({result.count} records before it verified)"
        )
    # Signed checkpoints (hub/cli/audit_proofs.py) catch truncation and re-chaining, which
    # the chain alone cannot: the hub's own are checked unless another is given.
    own_log = checkpoint is None
    if checkpoint is None:
        kept = log.path.parent / CHECKPOINT_LOG
        checkpoint = kept if kept.is_file() and kept.stat().st_size > 0 else None
        if checkpoint is None:
            console.print(
                "no signed checkpoint in the data dir: the chain alone was checked (a cut tail "
                "shows only against a checkpoint; keep them elsewhere too, C360_AUDIT_WITNESS_URL)"
            )
    if checkpoint is not None and not audit_proofs.verify_checkpoint(
        checkpoint, public_key, own_log, read_only=True, chain_ok=result.ok
    ):
        raise typer.Exit(1)
    if not result.ok:
        raise typer.Exit(1)


# A record's time in the table: to the second ("2026-12-02T13:25:00Z"), so that an
# 80-column terminal shows every column; --json has it to the millisecond, as stored.
TIME_WIDTH = len("2026-12-02T13:25:00Z")
_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$")
# The customer ids a table row shows: a campaign's record names its whole audience (hundreds),
# which filled the column one id a line; `--json` lists them all.
SAMPLE_IDS = 3
CUSTOMERS_WIDTH = len("+430 more")


def _to_the_second(stamp: str) -> str:
    """A stored time ("…:00.123Z") without its fraction; anything else as it is."""
    return _FRACTION.sub(r"\1Z", stamp)


def _customers_cell(ids: list[str]) -> str:
    """A few ids as they are; more: how many, the first SAMPLE_IDS and "+N more", a line
    each (readable however narrow the column)."""
    if len(ids) <= SAMPLE_IDS:
        return "\n".join(ids)
    return "\n".join([f"{len(ids)} customers", *ids[:SAMPLE_IDS], f"+{len(ids) - SAMPLE_IDS} more"])


@app.command("show")
def show(
    subject: Annotated[str | None, typer.Option(help="only this subject")] = None,
    customer: Annotated[
        str | None, typer.Option(help="only records touching this customer")
    ] = None,
    since: Annotated[str | None, typer.Option(help="ISO time, e.g. 2025-03-01T00:00:00Z")] = None,
    last: Annotated[
        # 0 or less would read as "no limit" and print every record.
        int | None, typer.Option(min=1, help="only the last N matching records")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Decrypt and list audit records (for privacy officers)."""
    if since is not None:
        try:
            datetime.fromisoformat(since)
        except ValueError:
            fail(f"--since {since!r} is not an ISO time; give e.g. 2025-03-01T00:00:00Z")
    log, _ = _open()
    try:
        rows = log.read(subject=subject, customer=customer, since=since, last=last)
    except KeyRingError as exc:
        fail(f"{exc}: the key that wrote a record is missing from the key ring")
    except AuditRecordUnreadable as exc:
        fail(f"{exc}; nothing was shown")
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    # No outer border: its two columns let an 80-column terminal show every column whole.
    table = Table("seq", show_edge=False)
    # The time whole, to the second: a wide row squeezed it to "2026-12-02T…".
    table.add_column("time", no_wrap=True, min_width=TIME_WIDTH)
    for name in ("subject", "purpose", "operation"):
        table.add_column(name)
    # Wide enough for its header, "+430 more" and an id a line; a longer id is broken, not cut.
    table.add_column("customers", overflow="fold", min_width=CUSTOMERS_WIDTH)
    table.add_column("outcome")
    for r in rows:
        table.add_row(str(r["seq"]), _to_the_second(str(r.get("time", ""))), str(r.get("subject")),
                      str(r.get("purpose")), str(r.get("operation")),
                      _customers_cell(r.get("customer_ids") or []),
                      str(r.get("outcome")))  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} records")


@app.command("reindex")
def reindex() -> None:
    """Rebuild the audit index (audit/audit-index.sqlite) from the log. Reads rebuild it
    themselves when it is missing or behind; this is for doing it ahead of time."""
    log, _ = _open()
    if not log.path.is_file():
        fail(f"no audit log at {log.path}: point C360_DATA_DIR at the hub's data dir")
    try:
        count = log.reindex()
    except KeyRingError as exc:
        fail(f"{exc}: the key that wrote a record is missing from the key ring")
    except AuditRecordUnreadable as exc:
        fail(f"{exc}; the index was not rebuilt")
    console.print(f"audit index rebuilt: {count} records")


@app.command("rotate-key")
def rotate_key() -> None:
    """Make a new active audit key; old keys stay for reading."""
    _, ring = _open()
    try:
        kid = ring.rotate()
    except KeyRingError as exc:
        fail(str(exc))
    console.print(f"new active audit key: {kid} (old keys kept: {', '.join(ring.kids)})")


# --- signed checkpoints and proofs (hub/cli/audit_proofs.py) ---------------------------------
app.command("checkpoint")(audit_proofs.checkpoint)
app.command("public-key")(audit_proofs.public_key)
app.command("prove")(audit_proofs.prove_cmd)
app.command("reanchor")(audit_reanchor.reanchor)
