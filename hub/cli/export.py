"""`c360 export --customer ID`: an access request (PIPL Art. 45) as JSON, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.markup import escape

from hub.cli.common import console, fail, graph, load_settings, output_folder, run
from hub.cli.subject_common import audit, audit_log
from privacy.audit import AuditRecordUnreadable
from privacy.subject_export import export_customer
from shared.files import create_private


def export(
    customer: Annotated[str, typer.Option(help="the customer id")],
    by: Annotated[str, typer.Option(help="the privacy officer's subject (audited)")],
    out: Annotated[Path | None, typer.Option(help="write here (0600) instead of stdout")] = None,
) -> None:
    """Everything held about one customer, with who read what about them, when and why."""
    if not by.strip():
        fail("--by must name the privacy officer (their subject): the export is audited as theirs")
    fh: BinaryIO | None = None
    if out is not None:
        output_folder(out, "--out")  # before the export is audited, not after
        fh = _open_out(out)
    try:
        exported = _export(customer, by)
    except BaseException:
        _discard(out, fh)
        raise
    if exported is None:
        _discard(out, fh)
        fail(f"no customer {customer} in the graph")
    text = json.dumps(exported, ensure_ascii=False, indent=1, default=str)
    if out is None or fh is None:
        print(text)
        return
    with fh:
        fh.write((text + "\n").encode())
    console.print(f"wrote {out} ({len(exported['accessHistory'])} access records)")


def _open_out(out: Path) -> BinaryIO:
    """``out`` created (0600) before anything is exported or audited; one sentence when it
    cannot be (a folder, a folder we may not write in)."""
    if out.is_dir():
        fail(escape(f"--out {out} is a folder: give a file path (e.g. {out / 'export.json'})"))
    try:
        # A file left 0644 by an older version is replaced, not truncated (create_private).
        return create_private(out)
    except OSError as exc:
        fail(escape(f"cannot write {out} ({exc.strerror or exc}): give --out a path you may "
                    "write; nothing was exported"))  # fmt: skip


def _discard(out: Path | None, fh: BinaryIO | None) -> None:
    """Close and remove the file made for an export that did not happen."""
    if out is None or fh is None:
        return
    fh.close()
    if out.is_file():
        out.unlink(missing_ok=True)


def _export(customer: str, by: str) -> dict[str, Any] | None:
    settings = load_settings()
    log = audit_log(settings)

    async def go() -> dict[str, Any] | None:
        async with graph(settings) as store:
            try:
                exported = await export_customer(store, log, customer)
            except OSError as exc:  # the access history is read from the audit log
                fail(f"the audit log cannot be read ({exc}); nothing was exported: make "
                     "<data dir>/audit readable and check it with `c360 audit verify`")  # fmt: skip
            except AuditRecordUnreadable as exc:  # a changed record: its history is not whole
                fail(f"{exc}; nothing was exported")
        if exported is not None:
            fields = sorted(k for k in exported["profile"] if k != "id")
            details = {"export": {"customer": customer,
                                  "history_records": len(exported["accessHistory"])}}  # fmt: skip
            await audit(log, by, "cli export", "ok", customer, details, revealed=fields)
        return exported

    return run(go())
