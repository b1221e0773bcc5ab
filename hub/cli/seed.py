"""`c360 seed`: fill the graph with the deterministic demo bank."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from graph.store import GraphStore
from hub.cli.common import compact, console, fail, graph, load_settings, run
from hub.demo_guard import record_seeded_book


async def _seed(customers: int, seed: int, reset: bool, tx_share: float) -> dict[str, int] | None:
    settings = load_settings()
    # Imported after the settings are checked: the demo reads C360_DEMO_AS_OF as it loads.
    from hub.demo import seed_demo

    async with graph(settings) as store:
        if not reset and await _has_data(store):
            return None
        if reset:
            await store.clear()
        # The server stops when the command ends, and builds the indexes as it loads next.
        counts = await seed_demo(
            store, customers, seed, progress=True, tx_share=tx_share, wait_for_indexes=False
        )
        # `serve --demo` on this book hands out console demo tokens (hub/demo_guard.py).
        await record_seeded_book(store, settings.resolved_data_dir)
        await compact(store)
        return counts


async def _has_data(store: GraphStore) -> bool:
    return bool(await store.read("MATCH (n) RETURN n.id AS id LIMIT 1"))


def seed(
    customers: Annotated[
        int, typer.Option("--customers", "-n", min=1, help="How many customers to create.")
    ] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same data.")] = 42,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete everything in the graph first.")
    ] = False,
    tx_share: Annotated[
        float,
        typer.Option(
            "--tx-share",
            min=0.01,
            max=1.0,
            help="Share of each account's transaction history to generate (1.0: ~75 "
            "transactions a customer; 0.1 for a million-customer book).",
        ),
    ] = 1.0,
) -> None:
    """Seed a realistic, deterministic Chinese retail-bank book (customers, households,
    accounts, transactions, interactions, advisors, branches, products)."""
    started = time.perf_counter()
    counts = run(_seed(customers, seed, reset, tx_share))
    if counts is None:
        fail("the graph already holds data; run 'c360 seed --reset' to replace it with demo data")
    table = Table(title=f"demo data: {customers} customers, seed {seed}")
    table.add_column("label")
    table.add_column("nodes", justify="right")
    for label, n in counts.items():
        table.add_row(label, f"{n:,}")
    console.print(table)
    console.print(f"seeded in {time.perf_counter() - started:.1f}s")


__all__ = ["seed"]
