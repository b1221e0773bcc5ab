"""What `c360 recommend` and `c360 churn` share: reading the whole book with a progress bar,
and the one audit record of each run (it profiles every customer)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.store import GraphStore, Row
from hub.cli.common import fail, load_settings, os_user
from hub.cli.subject_common import audit, audit_log

BY = typer.Option(None, "--by", help="who runs it (audited); default: the OS user running this")


def runner(by: str | None) -> str:
    """Who a run is audited as: ``--by``, else the OS user (as `c360 token`); asked before
    the book is read, so a run that cannot be named reads nothing."""
    who = (by if by is not None else os_user("--by")).strip()
    if not who:
        fail("--by is empty: give who runs this command (it is audited)")
    return who


async def audit_run(
    who: str, operation: str, customers: int, model: str | None, outcome: str = "ok"
) -> None:
    """The run's one record (subject_common.audit, as `c360 export`): who, how many customers'
    histories it read, and the model file it writes (None: none). Written before the model
    file, so no model is put in use by a run the audit log could not take (``run`` then says
    so in one sentence, exit 2)."""
    log = audit_log(load_settings())
    try:
        details = {"profiled": {"customers": customers, "model_file": model}}
        await audit(log, who, operation, outcome, None, details)
    finally:
        log.close()


async def book(store: GraphStore, since: datetime) -> list[Row]:
    """Every customer's history; exit 2 with what to do when the graph holds no customer."""
    # Imported here: resolvers.nba brings Strawberry, which `recommend`/`churn --help` skip.
    from resolvers.nba import count_customers, load_histories

    total = await count_customers(store)
    if total == 0:
        fail("the graph holds no customer; run 'c360 seed' or 'c360 import' first")
    with Progress(
        TextColumn("reading the book"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("customers", total=total)
        return await load_histories(store, since, advance=lambda n: bar.update(task, advance=n))


__all__ = ["BY", "audit_run", "book", "runner"]
