"""`c360 import <kind> FILE`: load a CRM export (CSV or JSON Lines) into the graph."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import compact, console, fail, graph, load_settings, run
from ingest.crm import KINDS, ImportRefused, ImportSummary, import_file
from ingest.mapping import ColumnMapping, MappingError

app = typer.Typer(
    no_args_is_help=True,
    help="Import CRM exports (CSV with a header row, or JSON Lines). Bad rows go to "
    "<file>.dead.jsonl beside the input; re-running a file adds no duplicates.",
)

HELP = {
    "customers": "Customers: id, name, gender, birthDate, idNumber, phone, email, ... advisorId.",
    "accounts": "Accounts: id, customerId (owner), type, product, balance, currency, openedAt.",
    "holdings": "Account holders: customerId, accountId, role (OWNER|JOINT).",
    "households": "Household members: id, name, address, customerId, role.",
    "transactions": "Transactions: id, accountId, amount, currency, time, channel, kind.",
    "interactions": "Interactions: id, customerId, channel, kind, time, summary, satisfaction.",
    "advisors": "Advisors and branches: id, name, phone, email, title, branchId, branchName.",
    "social-accounts": "Confirmed social handles: customerId, platform, handle.",
}

FileArg = Annotated[
    Path,
    typer.Argument(help="A .csv (UTF-8, header row) or .jsonl/.ndjson file.", show_default=False),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", "-m", help="TOML column mapping for a foreign export."),
]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Records per graph write.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def print_summary(kind: str, path: Path, summary: ImportSummary) -> None:
    table = Table(title=f"import {kind}: {path.name}", show_header=False)
    table.add_row("read", str(summary.read))
    table.add_row("imported", f"[green]{summary.imported}[/]")
    table.add_row("rejected", f"[red]{summary.rejected}[/]" if summary.rejected else "0")
    if summary.resumed_after:
        table.add_row("resumed after", f"{summary.resumed_after} records committed earlier")
    table.add_row(
        "dead letters", str(summary.dead_letter_path) if summary.dead_letter_path else "-"
    )
    console.print(table)
    if summary.dead_letter_path:
        console.print(
            f"[bold yellow]{summary.rejected} record(s) rejected[/]: see "
            f"[bold]{summary.dead_letter_path}[/] (one JSON line each: line, raw, reasons). "
            "Fix them in the source file and import it again."
        )


async def _import(
    kind: str, path: Path, mapping: ColumnMapping, batch_size: int, progress: bool
) -> ImportSummary:
    settings = load_settings()
    checkpoints = settings.resolved_data_dir / "checkpoints" / "imports.json"
    async with graph(settings) as store:
        summary = await import_file(
            store, kind, path, mapping, batch_size, progress, checkpoint_path=checkpoints
        )
        await compact(store)
        return summary


def _command(kind: str) -> Callable[..., None]:
    def command(
        file: FileArg,
        mapping: MappingOpt = None,
        batch_size: BatchOpt = 1000,
        progress: ProgressOpt = True,
    ) -> None:
        try:
            columns = ColumnMapping.load(mapping) if mapping else ColumnMapping.identity()
            summary = run(_import(kind, file, columns, batch_size, progress))
        except (ImportRefused, MappingError) as exc:
            fail(str(exc))
        print_summary(kind, file, summary)

    command.__doc__ = HELP.get(kind, f"Import {kind}.")
    return command


for _kind in KINDS:
    app.command(_kind)(_command(_kind))
