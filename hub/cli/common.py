"""What every CLI command shares: settings, the graph session, and errors a person can read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from graph.connect import store_session
from graph.errors import GraphError, GraphQueryError, GraphUnavailable
from graph.store import GraphStore
from hub.services import protect_store
from hub.settings import Settings

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def load_settings() -> Settings:
    return Settings()


@asynccontextmanager
async def graph(settings: Settings) -> AsyncIterator[GraphStore]:
    async with store_session(
        settings.resolved_data_dir, settings.graph_url, **settings.graph_options
    ) as store:
        # Every CLI write (import, seed, ingest) seals personal fields like the API does.
        yield protect_store(store, settings)


async def compact(store: GraphStore) -> None:
    """After a bulk job (import, ingest, seed, migrate): fold the graph's write log into a
    snapshot, so the next start loads the snapshot instead of replaying the job. A failure only
    makes the next start slower: warn, do not fail the job."""
    with console.status("compacting the graph's write log"):
        try:
            await store.compact()
        except GraphError as exc:
            err_console.print(f"[yellow]warning:[/] {exc}")


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; graph failures become one sentence and exit code 2."""
    try:
        return asyncio.run(coro)
    except GraphUnavailable as exc:
        fail(f"the graph is unreachable: {exc}. Check C360_GRAPH_URL / C360_DATA_DIR.")
    except GraphQueryError as exc:
        fail(f"the graph rejected a query: {exc}")
    except GraphError as exc:
        fail(str(exc))
