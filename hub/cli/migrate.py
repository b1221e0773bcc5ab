"""`c360 migrate`: copy the graph between backends (embedded FalkorDB <-> Neo4j)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from graph.connect import store_session
from graph.migrate import MigrationReport, migrate_graph
from graph.store import GraphStore
from hub.cli.common import compact, console, fail, load_settings, run
from hub.settings import Settings
from shared.service_urls import FALKOR_SCHEMES, NEO4J_SCHEMES

EMBEDDED = ("", "embedded")


def resolve_endpoint(value: str, default_dir: Path) -> tuple[Path, str]:
    """--from/--to -> (data dir, graph URL): a server URL, or the embedded FalkorDB of a data
    dir ("embedded"/"" for C360_DATA_DIR, anything else is a data dir path)."""
    value = value.strip()
    if value in EMBEDDED:
        return default_dir, ""
    if value.startswith(NEO4J_SCHEMES + FALKOR_SCHEMES):
        return default_dir, value
    if "://" in value:
        fail(
            f"{value!r} is not a graph URL c360 knows: use bolt:// or neo4j:// for Neo4j, "
            "redis:// for a FalkorDB server, or a data dir path for an embedded graph"
        )
    return Path(value).expanduser().resolve(), ""


class _Bars:
    """graph.migrate.Progress drawn as one rich bar per label / relationship type."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, step: str, total: int) -> None:
        self._tasks[step] = self._progress.add_task(step, total=total)

    def advance(self, step: str, done: int) -> None:
        self._progress.advance(self._tasks[step], done)


def report_table(report: MigrationReport) -> Table:
    table = Table(title="Counts after the migration")
    for column in ("kind", "label / type", "source", "target", ""):
        table.add_column(
            column, justify="right" if column in ("source", "target") else "left", overflow="fold"
        )
    for row in report.rows:
        mark = "[green]ok[/]" if row.ok else "[bold red]MISMATCH[/]"
        table.add_row(row.kind, row.name, str(row.source), str(row.target), mark)
    return table


async def _open(stack: AsyncExitStack, settings: Settings, data_dir: Path, url: str) -> GraphStore:
    return await stack.enter_async_context(
        store_session(
            data_dir,
            url,
            graph_name=settings.graph_name,
            pool_size=settings.graph_pool_size,
            user=settings.graph_user,
            password=settings.graph_password,
            database=settings.graph_database,
        )
    )


async def _migrate(
    settings: Settings, source: tuple[Path, str], target: tuple[Path, str], batch_size: int
) -> MigrationReport:
    async with AsyncExitStack() as stack:
        # Target first: an unreachable server fails before the source's graph is started.
        to_store = await _open(stack, settings, *target)
        from_store = await _open(stack, settings, *source)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console) as progress:
            report = await migrate_graph(
                from_store, to_store, batch_size=batch_size, progress=_Bars(progress)
            )
        await compact(to_store)
        return report


def migrate(
    source: Annotated[
        str, typer.Option("--from", help="'embedded', a data dir path, or a graph URL")
    ] = "embedded",
    target: Annotated[
        str, typer.Option("--to", help="'embedded', a data dir path, or a graph URL")
    ] = "",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="rows per write")] = 1000,
) -> None:
    """Copy every node and relationship to another graph, idempotently (MERGE on natural
    keys), then compare counts. Neo4j credentials come from C360_GRAPH_USER / _PASSWORD /
    _DATABASE; --to defaults to C360_GRAPH_URL. Exit 1 when a count differs (e.g. the
    target already held other data)."""
    settings = load_settings()
    default_dir = settings.resolved_data_dir
    target = target or settings.graph_url
    if not target:
        fail("say where to copy the graph: --to URL (or set C360_GRAPH_URL)")
    src, dst = resolve_endpoint(source, default_dir), resolve_endpoint(target, default_dir)
    if src == dst:
        fail("--from and --to name the same graph; give two different data dirs or URLs")
    if not src[1] and not (src[0] / "falkordb").is_dir():
        fail(f"no embedded graph in {src[0]}; point --from at a data dir c360 has used")
    report = run(_migrate(settings, src, dst, batch_size))
    console.print(report_table(report))
    if not report.ok:
        console.print(
            f"[bold red]{len(report.mismatches)} count(s) differ.[/] Re-running is safe; "
            "a target that held other data will always differ."
        )
        raise typer.Exit(1)
    console.print("[green]Migration complete: every count matches.[/]")
