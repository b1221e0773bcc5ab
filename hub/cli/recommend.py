"""`c360 recommend train|eval`: the co-holding recommender, fitted and measured offline.

resolvers.nba (the graph glue the API shares, with Strawberry) is imported by the commands
that run, not with this module: `c360 recommend --help` needs none of it (hub/cli/__init__.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from hub.cli.common import console, fail, graph, load_catalogue, load_settings, run
from hub.cli.insights_common import BY, audit_run, book, runner
from insights import history as hist
from insights.holdout import HoldoutResult, evaluate

app = typer.Typer(help="Cross-sell and up-sell recommendations.", no_args_is_help=True)


async def _train(who: str) -> tuple[int, str]:
    """Fit on the whole book; audited (one record) before the model file is written."""
    from resolvers.nba import (
        RECOMMEND_FILE,
        count_customers,
        fit_recommender,
        model_path,
        write_model,
    )

    settings = load_settings()
    async with graph(settings) as store:
        if not await count_customers(store):
            fail("the graph holds no customer; run 'c360 seed' or 'c360 import' first")
        model = await fit_recommender(store, datetime.now(UTC))
    path = model_path(settings.resolved_data_dir, RECOMMEND_FILE)
    await audit_run(who, "cli recommend train", model.customers, str(path))
    write_model(settings.resolved_data_dir, RECOMMEND_FILE, model.to_json())
    return model.customers, str(path)


async def _eval(k: int, who: str) -> tuple[int, HoldoutResult]:
    from resolvers.nba import age_band, ages, birth_date

    settings = load_settings()
    products = load_catalogue(settings)
    now = datetime.now(UTC)
    async with graph(settings) as store:
        histories = await book(store, now - timedelta(days=hist.FLOW_DAYS))
    await audit_run(who, "cli recommend eval", len(histories), None)
    customers = [
        hist.book_customer(h, now, age_band(h, now), ages(birth_date(h), now)) for h in histories
    ]
    return len(customers), evaluate(customers, products, k)


@app.command("train")
def train(by: str | None = BY) -> None:
    """Fit the recommender on the whole book and save it in the data dir (the hub reloads it).
    Audited (--by, or the OS user)."""
    customers, path = run(_train(runner(by)))
    console.print(f"recommender fitted on {customers:,} customers -> {path}")


@app.command("eval")
def eval_(
    k: int = typer.Option(3, "--k", min=1, help="Length of the recommendation list."),
    by: str | None = BY,
) -> None:
    """Hide each customer's latest opened product, fit on the rest, and compare hit rate@k
    and MRR with a popularity baseline. Last line: ratio=<method hit@k / popularity hit@k>.
    Audited (--by, or the OS user)."""
    customers, result = run(_eval(k, runner(by)))
    if not result.method.cases:
        # Hit rates of no case are no figures (ratio=inf read as a success).
        fail(
            f"nothing to evaluate: none of the {customers:,} customers is a case (one holding "
            "two or more products, the latest opened one a catalogue product they may be "
            f"offered; {result.skipped_ineligible} not offerable); import more accounts (or "
            "seed the demo book) and run it again"
        )
    console.print(
        f"hold-out: {customers:,} customers, {result.method.cases:,} cases "
        f"(latest opened product hidden; {result.skipped_ineligible} not offerable, skipped)"
    )
    table = Table()
    table.add_column("method")
    table.add_column(f"hit@{k}", justify="right")
    table.add_column("MRR", justify="right")
    table.add_row("co-holding (peers + household + tiers)", f"{result.method.hit_rate:.3f}",
                  f"{result.method.mrr:.3f}")  # fmt: skip
    table.add_row("popularity", f"{result.popularity.hit_rate:.3f}", f"{result.popularity.mrr:.3f}")
    console.print(table)
    print(f"ratio={result.ratio:.2f}")


__all__ = ["app"]
