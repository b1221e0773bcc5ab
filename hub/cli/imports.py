"""`c360 import <kind> FILE`: load a CRM export (delimited text, JSON Lines, .xlsx, Parquet, or a
DuckDB query) into the graph."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hub.cli.common import (
    compact,
    console,
    err_console,
    fail,
    graph,
    load_settings,
    run,
    unreadable,
    unwinding_on_signals,
)
from hub.settings import Settings
from ingest.crm import (
    KINDS,
    DeadLettersUnwritable,
    Erasures,
    ImportInterrupted,
    ImportRefused,
    ImportSummary,
    OnProgress,
    check_mapping,
    import_file,
)
from ingest.disk_full import DiskFull, disk_full, graph_log_says_full
from ingest.mapping import ColumnMapping, MappingError
from privacy.erasure_ledger import ErasureLedger, LedgerError, mirror_paths
from shared.scratch import scratch_dir

app = typer.Typer(
    no_args_is_help=True,
    help="Import CRM exports: delimited text of any extension (encoding and delimiter "
    "detected), JSON Lines, .xlsx or .parquet, or the rows of a DuckDB query (--sql). Bad rows "
    "go to <file>.dead.jsonl beside the input (or --dead-letters PATH), and so do rows of "
    "customers erased on request; re-running a file adds no duplicates.",
)

FileArg = Annotated[
    Path | None,
    typer.Argument(
        # Help text is rich markup: escape() keeps "[sql]" as text instead of a style tag.
        help=escape(
            "Delimited text (.csv/.txt/.asc/...), .jsonl/.ndjson, .xlsx or .parquet; "
            "optional with --sql or a mapping with [sql]."
        ),
        show_default=False,
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help=escape("TOML mapping: [source], [sql], [columns], [values.FIELD], [defaults]."),
    ),
]
SqlOpt = Annotated[
    str | None,
    typer.Option("--sql", help="A DuckDB query whose columns are c360 fields ({file}: FILE)."),
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="Text encoding (default: detected).")
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", help="Field delimiter: , ; | or tab (default: sniffed)."),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help=escape(
            'Amounts\' decimal mark, "," or "." (as a mapping\'s [source] decimal, which it '
            'overrides): with "," 1.000 is 1000, with "." it is 1 (default: read only '
            "amounts whose spelling says which)."
        ),
        show_default=False,
    ),
]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Records per graph write.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and look up, print the summary, write nothing.")
]
CreateOpt = Annotated[
    bool,
    typer.Option(
        "--create-missing",
        help="Create bare parents not found (customers, accounts, advisors) instead of dead "
        "letters.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="When FILE was exported (a time or date; without an offset, Asia/Shanghai): "
        "customers' consents in rows without a consentUpdatedAt are as of then. A consent "
        "stored later (a withdrawal through the API) is never overwritten; without --as-of "
        "such rows set consents only for customers who hold none.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")]
DeadOpt = Annotated[
    Path | None,
    typer.Option(
        "--dead-letters",
        help="Where rejected rows go: a folder (FILE's stem.dead.jsonl in it) or a file "
        "(default: beside FILE; give this when FILE's folder is read-only).",
        show_default=False,
    ),
]


def print_summary(kind: str, name: str, summary: ImportSummary) -> None:
    title = f"import {kind}: {escape(name)}"
    if summary.dry_run:
        title += " (dry run: nothing written)"
    table = Table(title=title, show_header=False)
    table.add_row("source", escape(summary.source))
    table.add_row("read", str(summary.read))
    table.add_row("inserted", f"[green]{summary.inserted}[/]")
    table.add_row("updated", str(summary.updated))
    table.add_row("unchanged", str(summary.unchanged))
    if summary.upserted:
        table.add_row("upserted", str(summary.upserted))
    rejected = f"[red]{summary.rejected}[/]" if summary.rejected else "0"
    if summary.rejected_total != summary.rejected:
        # A resumed run: the file also keeps what the interrupted run rejected before.
        rejected += f" this run, {summary.rejected_total} in the dead-letter file"
    table.add_row("rejected", rejected)
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("missing parents", str(summary.missing_parents))
    if summary.erased:
        table.add_row("erased customers", f"[red]{summary.erased}[/]")
    if summary.stale_consents:
        table.add_row("consents kept (stored newer)", f"[yellow]{summary.stale_consents}[/]")
    table.add_row("ignored columns", escape(", ".join(summary.ignored_columns)) or "-")
    if summary.resumed_after:
        table.add_row("resumed after", f"{summary.resumed_after} records committed earlier")
    if summary.not_resumed:
        table.add_row("not resumed", f"[yellow]{escape(summary.not_resumed)}[/]")
    # escape(): a file name is text, not rich markup ("x[red]y" lost "[red]": QA, s26).
    table.add_row(
        "dead letters", escape(str(summary.dead_letter_path)) if summary.dead_letter_path else "-"
    )
    console.print(table)
    if summary.dry_run and summary.rejected_first:
        console.print(f"first of {summary.rejected} rejected record(s), not written anywhere:")
        for line in summary.rejected_first:
            console.print(f"  {escape(line)}")
    if summary.duplicates:
        lost = summary.duplicates_rejected
        console.print(
            f"{summary.duplicates} row(s) repeated a key found again later in the input: the "
            "last row of each key was imported"
            + (
                f", except for {lost} key(s) whose last row was rejected: nothing imported for "
                "them (see the dead letters)."
                if lost
                else "."
            )
        )
    if summary.erased:
        console.print(
            f"[bold yellow]{summary.erased} row(s) name a customer erased under a data-subject "
            "request[/] (erasure ledger): refused, never imported again. Delete them from the "
            "export."
        )
    if summary.warnings_total:
        console.print(f"[bold yellow]{summary.warnings_total} warning(s)[/] (imported as shown):")
        for line in summary.warnings:
            console.print(f"  {escape(line)}")
        if summary.warnings_total > len(summary.warnings):
            console.print(f"  ... and {summary.warnings_total - len(summary.warnings)} more")
    if summary.dead_letter_path:
        console.print(
            f"[bold yellow]{summary.rejected_total} record(s) rejected[/]: see "
            f"[bold]{escape(str(summary.dead_letter_path))}[/] (one JSON line each: line, raw, "
            "reasons). Fix them in the source file and import it again."
        )


def say_stopped(name: str, committed: int, number: int) -> None:
    """What an import stopped by a signal committed, and how to go on: as an interrupted
    import says it (ImportInterrupted), on stderr."""
    sig = signal.Signals(number).name
    how = "Ctrl-C (SIGINT)" if number == signal.SIGINT else sig
    done = (
        f"after {committed} records were committed"
        if committed
        else "before any record was committed"
    )
    err_console.print(
        f"[bold yellow]stopped:[/] importing {escape(name)} was stopped by {how} {done}; run "
        "the same command again to resume from there"
    )


@contextmanager
def progress_bar(enabled: bool, name: str) -> Iterator[OnProgress | None]:
    """A rich bar on stderr fed by the importer's (done, total) callback."""
    if not enabled:
        yield None
        return
    columns = (TextColumn(f"importing {escape(name)}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task("import", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def erasures(ledger: ErasureLedger) -> Erasures:
    """The ids of every erasure ``ledger`` knows (the data dir's and the mirrors). Raises
    LedgerError when one cannot be read: the import does not go ahead (privacy fails closed)."""
    entries = ledger.entries()
    return Erasures.of((e.customer_id for e in entries), (h for e in entries for h in e.households))


# A dry run's scratch data dir (shared/scratch.py: named with the pid, swept when it is gone).
# Under /tmp: the graph server's unix socket path is limited to 107 bytes.
DRY_PREFIX, DRY_FOLDER = "c360-dry-", Path("/tmp")


@contextmanager
def _scratch_graph(settings: Settings, dry_run: bool) -> Iterator[Path | None]:
    """A throwaway data dir (removed after) for a dry run on a data dir that holds no graph
    yet (no embedded graph started in it, no C360_GRAPH_URL): such a dry run compares with
    an empty graph, and opening the data dir's would create it (the dir, its format marker,
    the graph server's files, the key store). None: the import opens the data dir's graph."""
    data_dir = settings.data_dir_path
    # graph.embedded.EmbeddedFalkorDB.dir: where the embedded graph server keeps its files.
    if not dry_run or settings.graph_url or (data_dir / "falkordb").exists():
        yield None
        return
    with scratch_dir(DRY_PREFIX, DRY_FOLDER) as scratch:
        yield Path(scratch)


@contextmanager
def _graph_disk_full(settings: Settings) -> Iterator[None]:
    """An import the graph interrupted (its embedded server exited: "Broken pipe") said as a
    full disk when the server's log says so since the import began (QA, session 26: the
    cause was only in falkordb.log)."""
    began = datetime.now()  # naive local time, as the server's log writes it
    try:
        yield
    except DiskFull:
        raise
    except ImportInterrupted as exc:
        if settings.graph_url:  # an external graph's disk and log are not ours to read
            raise
        from graph.embedded import EmbeddedFalkorDB  # its paths only: nothing is started

        server = EmbeddedFalkorDB(settings.resolved_data_dir)
        if not graph_log_says_full(server.log_path, began):
            raise
        raise disk_full(server.dir, exc.committed) from exc


async def _import(
    kind: str,
    path: Path | None,
    mapping: ColumnMapping,
    batch_size: int,
    progress: bool,
    dry_run: bool,
    label: str,
    **options: object,
) -> ImportSummary:
    settings = load_settings()
    real_dir = settings.data_dir_path
    with _scratch_graph(settings, dry_run) as scratch:
        if scratch is None:
            ledger = ErasureLedger.of(settings)
        else:  # read where they are, the data dir left as it is (perhaps not there at all)
            ledger = ErasureLedger(real_dir, mirror_paths(settings.erasure_ledger))
            settings = settings.model_copy(update={"data_dir": scratch})
        erased = erasures(ledger)  # before the graph starts: an unreadable ledger stops here
        checkpoints = settings.resolved_data_dir / "checkpoints" / "imports.json"
        async with graph(settings, upgrade=not dry_run) as store:
            with progress_bar(progress, label) as tick, _graph_disk_full(settings):
                summary = await import_file(
                    store,
                    kind,
                    path,
                    mapping,
                    batch_size,
                    tick,
                    checkpoint_path=checkpoints,
                    dry_run=dry_run,
                    erasures=erased,
                    # A SQL transform never reads keys (the scratch dir's: none worth having).
                    private=(real_dir, settings.resolved_data_dir),
                    **options,  # type: ignore[arg-type]
                )
            if not dry_run:  # a dry run leaves the data dir as it found it
                await compact(store)
            return summary


def _command(kind: str) -> Callable[..., None]:
    def command(
        file: FileArg = None,
        mapping: MappingOpt = None,
        sql: SqlOpt = None,
        encoding: EncodingOpt = None,
        delimiter: DelimiterOpt = None,
        decimal: DecimalOpt = None,
        batch_size: BatchOpt = 5000,
        progress: ProgressOpt = True,
        dry_run: DryRunOpt = False,
        create_missing: CreateOpt = False,
        dead_letters: DeadOpt = None,
        as_of: AsOfOpt = None,
        json: JsonOpt = False,
    ) -> None:
        name = file.name if file else f"{mapping.name if mapping else '--sql'} (SQL)"
        stopped: list[int] = []  # the records committed, when Ctrl-C or a signal stopped it
        try:
            columns = ColumnMapping.load(mapping) if mapping else ColumnMapping.identity()
            columns = columns.with_decimal(decimal)
            check_mapping(kind, columns)
            # With a query, FILE is only its {file} (DuckDB may take a glob): DuckDB checks it.
            problem = unreadable(file) if file and sql is None and columns.sql is None else None
            if problem:
                fail(escape(problem))
            if delimiter in ("tab", "\\t"):
                delimiter = "\t"
            if delimiter is not None and len(delimiter) != 1:
                fail("--delimiter must be one character (or tab)")
            with unwinding_on_signals():  # SIGTERM: the temp copies are removed on the way out
                summary = run(
                    _import(
                        kind, file, columns, batch_size, progress and not json,
                        read_options=columns.read_options(encoding, delimiter),
                        sql=sql, dry_run=dry_run, create_missing=create_missing, label=name,
                        dead_letters=dead_letters, as_of=as_of, on_stop=stopped.append,
                    )
                )  # fmt: skip
        except (ImportRefused, MappingError) as exc:
            fail(escape(str(exc)))  # "[columns]" is text, not rich markup
        except DeadLettersUnwritable as exc:
            fail(escape(f"{exc}: give --dead-letters PATH (a writable folder or file); "
                        "nothing was imported"))  # fmt: skip
        except LedgerError as exc:
            fail(escape(f"{exc}; nothing was imported (rows of erased customers could not be "
                        "told apart)"))  # fmt: skip
        except (OSError, ValueError) as exc:
            # Whatever the input does, a person reads one sentence, never a traceback.
            fail(escape(f"the import stopped: {type(exc).__name__}: {exc}"), code=1)
        except KeyboardInterrupt:
            if stopped:
                say_stopped(name, stopped[-1], signal.SIGINT)
            raise typer.Exit(128 + signal.SIGINT) from None
        except SystemExit as exc:  # SIGTERM / SIGHUP (unwinding_on_signals): 128 + its number
            code = exc.code if isinstance(exc.code, int) else 0
            if stopped and code > 128:
                say_stopped(name, stopped[-1], code - 128)
            raise
        if json:
            typer.echo(orjson.dumps(summary.to_dict()).decode())
        else:
            print_summary(kind, name, summary)

    command.__doc__ = KINDS[kind].help or f"Import {kind}."
    return command


for _kind in KINDS:
    app.command(_kind)(_command(_kind))
