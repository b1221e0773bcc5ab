"""`c360 doctor`: check the embedded graph's files (`--repair` fixes what is safe to fix),
which product catalogue the hub would use, and what the erasure ledgers count in doubt."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from graph.embedded import EmbeddedFalkorDB, probe
from graph.errors import GraphUnavailable
from graph.persistence import Report, inspect, writable
from hub.cli.common import console, fail, load_settings
from hub.settings import Settings
from insights.catalogue import CatalogueError, catalogue_file, read_catalogue
from privacy.erasure import APPROVED, DONE, ErasureRequest, ErasureStore
from privacy.erasure_ledger import ErasureLedger, LedgerError, mirror_paths, torn_cancellation
from privacy.proposals import PENDING


def print_report(report: Report) -> None:
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
    if not report.findings:
        console.print(f"[green]ok:[/] the graph files in {report.server_dir} look bootable")
        return
    table = Table(title=f"graph files in {report.server_dir}")
    for column in ("problem", "file", "what to do", ""):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        mark = "[green]repaired[/]" if f.repaired else "[bold red]open[/]"
        table.add_row(f.problem, str(f.file or "-"), f.advice, mark)
    console.print(table)


def check_catalogue(settings: Settings) -> bool:
    """Print which catalogue file the hub and the CLI use and whether it validates. Read
    afresh: an edit made since the hub started shows here before a restart applies it."""
    source = catalogue_file(settings.readable_data_dir, settings.catalogue)
    try:
        catalogue = read_catalogue(source)
    except CatalogueError as exc:
        console.print(f"[bold red]catalogue:[/] {exc}")
        return False
    console.print(f"[green]ok:[/] catalogue {source.describe()}: {catalogue.summary()}")
    return True


def ledger_doubts(settings: Settings) -> list[str]:
    """What the erasure ledgers (the data dir's, the mirrors) count that may not be meant: a
    last line cut off mid-write that may be a cancellation (not honoured: its entries count,
    privacy/erasure_ledger.py), and an entry that counts while its request is not done (an
    approval that failed, a reject or withdraw cut short; this outlasts the torn line, which
    the next append cuts off). Reads only."""
    data_dir = settings.readable_data_dir
    ledger = ErasureLedger(data_dir, mirror_paths(settings.erasure_ledger))
    doubts: list[str] = []
    try:
        doubts += [
            torn.describe()
            for path in ledger.paths
            if path.exists() and (torn := torn_cancellation(path)) is not None
        ]
        entries = ledger.entries()
        requests = ErasureStore(data_dir).load()
    except (LedgerError, OSError, ValueError) as exc:
        return [*doubts, f"cannot read the erasure ledgers or requests: {exc}"]
    for entry in entries:
        request = requests.get(entry.request)
        if request is None or request.status == DONE:
            continue
        fix = _entry_fix(request)
        doubts.append(
            f"the entry of request {entry.request} (customer {entry.customer_id}) counts, so a "
            f"restore erases the customer, while the request is {request.status}: {fix}"
        )
    return doubts


def _entry_fix(request: ErasureRequest) -> str:
    """What can settle an entry whose request is not done, given what its status allows."""
    again = (
        f"`c360 erase --request {request.id} --approved-by SUBJECT` (or approveErasure) by a "
        f"privacy officer other than {request.proposer}"
    )
    if request.status == APPROVED:
        # Claimed by an approval that stopped (a crash, a killed graph server): only an
        # approval can finish it; a reject or withdraw is refused ("approved already").
        until = f" (its claim runs out at {request.lease_until})" if request.lease_until else ""
        return (
            f"if no approval of it is running now, complete the erasure once its claim has "
            f"run out{until}: {again}; an approved request cannot be rejected or withdrawn"
        )
    if request.status == PENDING:
        return (
            f"approve it again to carry it out ({again}), or reject or withdraw it "
            "(`c360 erase --reject/--withdraw`) to cancel the entry"
        )
    return (
        "it was closed unerased by a version before cancellations reached every ledger: "
        "remove the entry's line from the ledgers by hand"
    )


def check_erasure_ledgers(settings: Settings) -> bool:
    doubts = ledger_doubts(settings)
    for doubt in doubts:
        console.print(f"[bold red]erasure ledger:[/] {doubt}")
    if not doubts:
        console.print("[green]ok:[/] erasure ledgers: nothing in doubt")
    return not doubts


def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="fix what is safe: rebuild a manifest naming missing files, cut a torn log "
            "tail (originals kept as *.bak). Stop the hub first.",
        ),
    ] = False,
) -> None:
    """Check that the embedded graph's files can be loaded: the AOF manifest names files that
    exist, every log passes redis-check-aof, there is disk space to write; and that the
    product catalogue file validates; and that no erasure ledger counts an erasure in doubt (a
    cancellation cut off mid-write, an entry whose request is not done). Exit 1 when a problem
    is left."""
    settings = load_settings()
    others_ok = check_catalogue(settings)
    if settings.data_dir.expanduser().is_dir():
        others_ok = check_erasure_ledgers(settings) and others_ok
    if settings.graph_url:
        console.print(
            f"C360_GRAPH_URL is set ({settings.graph_url.split('://')[0]}://...): the graph is an "
            "external server with its own tools; doctor checks only the embedded graph"
        )
    # Checking reads only: a read-only copy (a forensic one, a mount) is checked as it is.
    data_dir = settings.resolved_data_dir if repair else settings.readable_data_dir
    embedded = EmbeddedFalkorDB(data_dir)
    if not embedded.dir.is_dir():
        console.print(f"no embedded graph in {data_dir} yet: nothing to check")
        if not others_ok:
            raise typer.Exit(1)
        return
    if not repair and not writable(embedded.dir):
        # No hub runs on files it cannot write, and the lock taken below would need a write.
        console.print(f"{embedded.dir} is read-only: checking its files as they are")
        report = inspect(embedded.dir, repair=False)
        print_report(report)
        if not report.ok or not others_ok:
            raise typer.Exit(1)
        return
    try:
        with embedded.offline():
            report = inspect(embedded.dir, repair=repair)
            if repair:
                # Left by a crash or copied from another dir; harmless, but confusing.
                embedded.pid_path.unlink(missing_ok=True)
                embedded.socket_path.unlink(missing_ok=True)
    except GraphUnavailable as exc:
        if repair:
            fail(f"{exc}; --repair works only on a stopped graph")
        state = probe(embedded.socket_path)
        console.print(f"[yellow]{exc}[/] (its server is {state}); checking the files read-only")
        report = inspect(embedded.dir, repair=False)
    print_report(report)
    if not report.ok or not others_ok:
        raise typer.Exit(1)


__all__ = ["doctor"]
