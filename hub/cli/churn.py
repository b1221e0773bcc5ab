"""`c360 churn train|eval`: the churn model beside the rule score, on a time split.

resolvers.nba (with Strawberry) is imported by the commands that run, and insights.churn
imports scikit-learn only to fit: `c360 churn --help` needs neither (hub/cli/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

import typer
from rich.table import Table

from hub.cli.common import console, fail, graph, load_settings, run
from hub.cli.insights_common import BY, audit_run, book, runner
from insights import churn

T = TypeVar("T")

app = typer.Typer(
    help="The churn model (scikit-learn) beside the rule score.", no_args_is_help=True
)


def _cannot_fit(exc: ValueError) -> NoReturn:
    """One sentence and exit 2 for data the model cannot learn from, never a traceback."""
    if isinstance(exc, churn.UnreadableHistory):
        fail(f"{exc}: correct that record (import it again) and run this command again.")
    fail(f"{exc}. Import more history (or seed the demo book) and try again.")


def _history_days(horizon: int) -> int:
    return churn.HISTORY_DAYS - 2 * churn.HORIZON_DAYS + 2 * horizon


async def _learned(who: str, operation: str, read: int, learn: Callable[[], T]) -> T:
    """``learn`` from the ``read`` histories; a book it cannot learn from is audited as an
    error (every history was read all the same), then one sentence, exit 2."""
    try:
        return learn()
    except ValueError as exc:
        await audit_run(who, operation, read, None, "error")
        _cannot_fit(exc)


async def _split(horizon: int, who: str) -> churn.SplitResult:
    from resolvers.nba import rule_score

    now = datetime.now(UTC)
    async with graph(load_settings()) as store:
        histories = await book(store, now - timedelta(days=_history_days(horizon)))
    operation = "cli churn eval"
    result = await _learned(
        who, operation, len(histories), lambda: churn.split(histories, now, rule_score, horizon)
    )
    await audit_run(who, operation, len(histories), None)
    return result


def _table(result: churn.SplitResult) -> Table:
    table = Table(
        title=f"train: {churn.SNAPSHOTS} snapshots up to {result.train_at:%Y-%m-%d} "
        f"({result.train_size:,} samples, {result.train_churners} churned), "
        f"test as of {result.test_at:%Y-%m-%d} "
        f"({result.test_size:,} customers, {result.test_churners} churned)"
    )
    table.add_column("score")
    table.add_column("AUC", justify="right")
    table.add_column("precision in top decile", justify="right")
    for name, r in (("churn model", result.model), ("rule score", result.rules)):
        table.add_row(name, f"{r.auc:.3f}", f"{r.top_decile_precision:.3f}")
    return table


@app.command("eval")
def eval_(
    horizon: int = typer.Option(churn.HORIZON_DAYS, "--horizon", min=30, help="Days ahead."),
    by: str | None = BY,
) -> None:
    """Train on features as of two horizons ago, test on one horizon ago; AUC and top-decile
    precision for the model and the rule score side by side. Audited (--by, or the OS user)."""
    result = run(_split(horizon, runner(by)))
    console.print(_table(result))
    base = result.test_churners / result.test_size if result.test_size else 0.0
    print(
        f"base rate={base:.3f} auc_model={result.model.auc:.3f} auc_rules={result.rules.auc:.3f} "
        f"top10_model={result.model.top_decile_precision:.3f} "
        f"top10_rules={result.rules.top_decile_precision:.3f}"
    )


def beats_rules(result: churn.SplitResult) -> bool:
    """The model ranks the hold-out at least as well as the rule score on both measures
    (AUC, precision in the top decile); a measure that could not be taken (no churner in
    the test window: NaN) is no evidence that it does."""
    model, rules = result.model, result.rules
    return model.auc >= rules.auc and model.top_decile_precision >= rules.top_decile_precision


async def _train(
    horizon: int, force: bool, who: str
) -> tuple[churn.ChurnModel, churn.SplitResult, str | None]:
    """Evaluate on the split, then refit on the latest full window; saved (and so in use by
    the hub) only when it beats the rule score on the hold-out, or ``force``. The path
    written, else None. Audited (one record) before the model file is written."""
    from resolvers.nba import CHURN_FILE, model_path, rule_score, write_model

    now = datetime.now(UTC)
    settings = load_settings()
    async with graph(settings) as store:
        histories = await book(store, now - timedelta(days=_history_days(horizon)))

    def learn() -> tuple[churn.SplitResult, churn.ChurnModel]:
        split = churn.split(histories, now, rule_score, horizon)
        samples = churn.training_samples(histories, now, rule_score, horizon)
        return split, churn.fit(samples, now, now - timedelta(days=horizon))

    operation = "cli churn train"
    result, latest = await _learned(who, operation, len(histories), learn)
    metrics = {
        "trainAt": result.train_at.isoformat(), "testAt": result.test_at.isoformat(),
        "testSize": result.test_size, "testChurners": result.test_churners,
        "aucModel": result.model.auc, "aucRules": result.rules.auc,
        "top10Model": result.model.top_decile_precision,
        "top10Rules": result.rules.top_decile_precision,
    }  # fmt: skip
    model = churn.ChurnModel(**{**latest.__dict__, "metrics": metrics})
    saved = force or beats_rules(result)
    path = model_path(settings.resolved_data_dir, CHURN_FILE) if saved else None
    await audit_run(who, operation, len(histories), None if path is None else str(path))
    if path is None:
        return model, result, None
    return model, result, str(write_model(settings.resolved_data_dir, CHURN_FILE, model.to_json()))


@app.command("train")
def train(
    horizon: int = typer.Option(churn.HORIZON_DAYS, "--horizon", min=30, help="Days ahead."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Save (and so use) the model even when the rule score ranks the hold-out better.",
    ),
    by: str | None = BY,
) -> None:
    """Fit the churn model on the latest full window and save it in the data dir when it
    ranks the hold-out at least as well as the rule score (AUC and top-decile precision) or
    with --force; the 360 view's churnRisk uses it from then on (model names it). Audited
    (--by, or the OS user)."""
    model, result, path = run(_train(horizon, force, runner(by)))
    console.print(_table(result))
    weights = sorted(zip(churn.FEATURES, model.coef, strict=True), key=lambda kv: -abs(kv[1]))
    console.print("weights (standardised): " + ", ".join(f"{f} {c:+.2f}" for f, c in weights))
    if path is not None:
        console.print(f"churn model saved -> {path}")
        return
    from resolvers.nba import CHURN_FILE, model_path

    before = model_path(load_settings().resolved_data_dir, CHURN_FILE)
    in_use = (
        f"the model saved before ({before}) stays in use"
        if before.exists()
        else "churnRisk keeps the rule score"
    )
    console.print(
        f"churn model not saved: the rule score ranks the hold-out better (AUC "
        f"{result.model.auc:.3f} vs {result.rules.auc:.3f}, top decile "
        f"{result.model.top_decile_precision:.3f} vs {result.rules.top_decile_precision:.3f}); "
        f"{in_use}. Run with --force to use it anyway."
    )


__all__ = ["app", "beats_rules"]
