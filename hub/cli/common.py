"""What every CLI command shares: settings, the graph session, and errors a person can read."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.markup import escape

from graph.errors import GraphError, GraphQueryError, GraphUnavailable
from hub.cli.consoles import console, err_console
from hub.settings import Settings
from privacy.types import AuditUnavailable, PolicyUnavailable

if TYPE_CHECKING:
    from graph.store import GraphStore
    from insights.catalogue import Catalogue

T = TypeVar("T")


def load_settings() -> Settings:
    """The settings from the environment; a bad value is one sentence naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        fail("; ".join(_setting_error(e) for e in exc.errors()))


def _setting_error(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message
    name = "C360_" + "_".join(str(part) for part in error["loc"]).upper()
    return f"{name}={error.get('input')!r}: {message}"


@asynccontextmanager
async def graph(settings: Settings, *, upgrade: bool = True) -> AsyncIterator[GraphStore]:
    """The graph, sealing; not ``upgrade`` (a dry run): the open-time upgrades a graph an
    older c360 wrote needs are not written (graph.connect.open_store), nor the key store's
    listing of the ledger's erasures (hub.services.field_crypto)."""
    # Imported here: the graph client and the key services are for commands that open the
    # graph, not for every command that imports this module (`c360 token`, `audit verify`).
    from graph.connect import store_session
    from hub.services import protect_store
    from ingest.social.retag import upgrades
    from ingest.social.terms import TermsError

    try:
        # The brand-tag upgrade judges by the terms ingest tags with (C360_TERMS), read only
        # if it runs.
        session = store_session(
            settings.resolved_data_dir,
            settings.graph_url,
            upgrade=upgrade,
            more_upgrades=upgrades(settings.terms),
            **settings.graph_options,
        )
        async with session as store:
            # Every CLI write (import, seed, ingest) seals personal fields like the API does.
            yield protect_store(store, settings, upgrade=upgrade)
    except TermsError as exc:
        fail(str(exc))


async def compact(store: GraphStore) -> None:
    """After a bulk job (import, ingest, seed, migrate): fold the graph's write log into a
    snapshot, so the next start loads the snapshot instead of replaying the job. A failure only
    makes the next start slower: warn, do not fail the job."""
    with console.status("compacting the graph's write log"):
        try:
            await store.compact()
        except GraphError as exc:
            err_console.print(f"[yellow]warning:[/] {exc}")


def load_catalogue(settings: Settings) -> Catalogue:
    """The catalogue the hub would use (C360_CATALOGUE, else <data dir>/catalogue.json, else
    the packaged one); a file that does not validate stops the command with one sentence."""
    from insights.catalogue import CatalogueError, configured_catalogue

    try:
        return configured_catalogue(settings.resolved_data_dir, settings.catalogue)
    except CatalogueError as exc:
        fail(str(exc))


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be imported, if it cannot: asked before the graph starts and the
    progress bar is drawn, so a typo costs neither."""
    if not path.is_file():
        return f"{path} does not exist or is not a file"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    return None


def output_folder(path: Path, option: str) -> None:
    """Stop with one sentence when the folder ``path`` is to be written in does not exist:
    asked before anything is done (the graph started, a record audited), so a typo in a
    folder costs nothing."""
    folder = path.absolute().parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        fail(escape(f"the folder {folder} {what}: create it (mkdir -p {folder}) or give "
                    f"{option} a path in an existing folder"))  # fmt: skip


def os_user(option: str) -> str:
    """The OS user running the command, who it audits when ``option`` names nobody."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        fail(f"cannot tell the OS user (uid {os.getuid()} has no passwd entry and LOGNAME and "
             f"USER are unset, as in a container run with --user UID): pass {option} NAME "
             "(it is audited)")  # fmt: skip


def audit_unwritable(exc: AuditUnavailable) -> str:
    """What to do when the audit log cannot take a record (the command's own sentence says
    what was, or was not, done)."""
    return (
        f"the audit log cannot be written ({exc}): make <data dir>/audit writable (free "
        "space, permissions) and check it with `c360 audit verify`"
    )


UNWINDING = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def unwinding_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end a long command (import, ingest) as Ctrl-C does: by an exception
    where it runs (SystemExit, exit code 128 + the signal's number), so its ``with`` blocks run
    and what it staged is removed (the UTF-8 copy of a customer export, a dry run's scratch
    graph). Python's default for them is to die on the spot, leaving those in /tmp. A second
    signal while unwinding kills as before (what is left is swept by the next import)."""

    def unwind(number: int, _frame: object) -> None:
        for sig in taken:
            signal.signal(sig, signal.SIG_DFL)
        raise SystemExit(128 + number)

    if threading.current_thread() is not threading.main_thread():
        yield  # a command run from a thread (a test's CliRunner): signals are not its to take
        return
    # One ignored stays ignored (`nohup c360 import ...` must outlive the terminal).
    taken = [sig for sig in UNWINDING if signal.getsignal(sig) is not signal.SIG_IGN]
    before = {sig: signal.signal(sig, unwind) for sig in taken}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def quiet_on_stop(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A command's loop's exception handler: a stop (SystemExit from SIGTERM/SIGHUP, Ctrl-C)
    that landed in a task other than the command's own is its way out, not an error: asyncio
    logged that task's exception with a traceback ("Task exception was never retrieved"; a
    SIGTERM during an import's lookups, session 24). Anything else is logged as before."""
    if isinstance(context.get("exception"), SystemExit | KeyboardInterrupt):
        return
    loop.default_exception_handler(context)


async def _stoppable(coro: Coroutine[Any, Any, T]) -> T:
    asyncio.get_running_loop().set_exception_handler(quiet_on_stop)
    return await coro


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; graph, audit log and policy engine failures become one
    sentence and exit code 2 (a command that wrote before its audit record failed says so
    itself: subject_common.closing)."""
    try:
        return asyncio.run(_stoppable(coro))
    except AuditUnavailable as exc:
        fail(f"{audit_unwritable(exc)}, then run the command again")
    except PolicyUnavailable as exc:
        fail(f"the policy engine cannot decide ({exc}): check the policies with `c360 policy "
             "test` (or the server C360_OPA_URL names) and run the command again")  # fmt: skip
    except GraphUnavailable as exc:
        fail(f"the graph is unreachable: {exc}. Check C360_GRAPH_URL / C360_DATA_DIR.")
    except GraphQueryError as exc:
        fail(f"the graph rejected a query: {exc}")
    except GraphError as exc:
        fail(str(exc))


__all__ = [
    "audit_unwritable",
    "compact",
    "console",
    "err_console",
    "fail",
    "graph",
    "load_catalogue",
    "load_settings",
    "output_folder",
    "run",
    "unwinding_on_signals",
]
