"""What `c360 recommend` and `c360 churn` share: reading the whole book with a progress bar."""

from __future__ import annotations

from datetime import datetime

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.store import GraphStore, Row
from hub.cli.common import fail


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


__all__ = ["book"]
