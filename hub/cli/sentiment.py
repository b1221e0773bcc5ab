"""`c360 sentiment eval|train|rescore`: compare models on labelled data, rebuild the default
model from the corpora, re-label stored posts with the active model."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli.common import console, fail, graph, load_settings, run
from hub.settings import Settings
from sentiment.batch import BatchScorer
from sentiment.evaluation import confidence, macro_f1, restrict
from sentiment.labels import Label
from sentiment.metrics import Evaluation, calibration_error, evaluate
from sentiment.scorer import DEFAULT, ScorerConfig
from shared.files import create_private

app = typer.Typer(no_args_is_help=True, help="Evaluate, train and re-apply the sentiment scorer.")

LABEL_ORDER = [
    Label.POSITIVE.value,
    Label.NEUTRAL.value,
    Label.NEGATIVE.value,
    Label.UNSUPPORTED.value,
]
REPO_ROOT = Path(__file__).resolve().parents[2]
BANK_VALIDATION = REPO_ROOT / "examples" / "social" / "bank_posts_labelled.csv"


def read_labelled(path: Path, allow_empty: bool = False) -> tuple[list[str], list[str]]:
    """(labels, texts) from a CSV with columns label,text; ValueError names the bad row."""
    labels, texts = [], []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"label", "text"} <= set(reader.fieldnames):
            raise ValueError(f"{path.name} needs a header row with columns label,text")
        for row in reader:
            label = (row.get("label") or "").strip().upper()
            if label not in LABEL_ORDER:
                raise ValueError(
                    f"{path.name} line {reader.line_num}: label {label!r} is not one of "
                    f"{', '.join(LABEL_ORDER)}"
                )
            labels.append(label)
            texts.append(row.get("text") or "")
    if not labels and not allow_empty:
        raise ValueError(f"{path.name} has no rows")
    return labels, texts


def parse_labels(value: str | None) -> list[str] | None:
    if not value:
        return None
    labels = [v.strip().upper() for v in value.split(",") if v.strip()]
    bad = [v for v in labels if v not in LABEL_ORDER[:3]]
    if bad or len(labels) < 2:
        raise ValueError(
            f"--labels takes two or three of POSITIVE,NEUTRAL,NEGATIVE (got {value!r})"
        )
    return labels


def config_for(settings: Settings, model: str) -> ScorerConfig:
    return ScorerConfig(model, settings.sentiment_positive, settings.sentiment_negative)


def evaluate_model(
    config: ScorerConfig, truth: list[str], texts: list[str], labels: list[str] | None
) -> dict[str, Any]:
    with BatchScorer(config) as scorer:
        version = scorer.version
        scorer.score(texts[:20])  # warm up (lazy tables, first allocations) before the clock
        start = time.perf_counter()
        scores = scorer.score(texts)
        elapsed = time.perf_counter() - start
    predicted = [restrict(s, labels) if labels else s.label.value for s in scores]
    names = [label for label in LABEL_ORDER if label in set(truth) | set(predicted)]
    result = evaluate(truth, predicted, names)
    # Calibration over the texts the model scored with probabilities (the gate's UNSUPPORTED
    # and snownlp's thresholded scores have none).
    judged = [
        (c, t == p)
        for s, t, p in zip(scores, truth, predicted, strict=True)
        if (c := confidence(s, labels)) is not None
    ]
    conf, hits = [c for c, _ in judged], [ok for _, ok in judged]
    return {
        "model": config.name,
        "version": version,
        "rows": len(truth),
        "accuracy": round(result.accuracy, 4),
        "macro_f1": round(macro_f1(result, sorted(set(truth))), 4),
        "per_class": [
            {
                "label": m.label,
                "precision": round(m.precision, 4),
                "recall": round(m.recall, 4),
                "f1": round(m.f1, 4),
                "support": m.support,
            }
            for m in result.per_class
        ],
        "labels": result.labels,
        "confusion": result.matrix,
        "texts_per_s": round(len(texts) / elapsed, 1) if elapsed > 0 else None,
        "ece": round(calibration_error(conf, hits), 4) if judged else None,
        "mean_confidence": round(sum(conf) / len(conf), 4) if judged else None,
        "_evaluation": result,
    }


def print_evaluation(result: Evaluation, model: str, n: int) -> None:
    per_class = Table(title=f"{model}: per class")
    for column in ("label", "precision", "recall", "F1", "support"):
        per_class.add_column(column, justify="left" if column == "label" else "right")
    for m in result.per_class:
        per_class.add_row(
            m.label, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support)
        )
    console.print(per_class)
    matrix = Table(title=f"{model}: confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("true \\ predicted")
    for label in result.labels:
        matrix.add_column(label, justify="right")
    for label, row in zip(result.labels, result.matrix, strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    console.print(matrix)


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="CSV with columns label,text")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="default, snownlp or a model file; repeat to compare"),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(help="restrict predictions to these labels, e.g. POSITIVE,NEGATIVE"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Score a labelled CSV with one or more models side by side: accuracy, macro-F1, per-class
    precision/recall/F1, confusion matrix and texts/s."""
    settings = load_settings()
    if not file.is_file():
        fail(f"{file} does not exist; give a CSV with columns label,text")
    try:
        truth, texts = read_labelled(file)
        restrict_to = parse_labels(labels)
    except ValueError as exc:
        fail(str(exc))
    models = model or [settings.sentiment_model]
    results = []
    for name in models:
        try:
            results.append(evaluate_model(config_for(settings, name), truth, texts, restrict_to))
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
    if as_json:
        clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
        print(json.dumps({"file": str(file), "labels": restrict_to, "models": clean}))
        return
    summary = Table(
        title=f"{file.name}: {len(truth)} rows" + (f", labels {labels}" if labels else "")
    )
    for column in ("model", "version", "accuracy", "macro-F1", "ECE", "texts/s"):
        summary.add_column(column, justify="left" if column in ("model", "version") else "right")
    for r in results:
        summary.add_row(
            r["model"],
            r["version"],
            f"{r['accuracy']:.3f}",
            f"{r['macro_f1']:.3f}",
            "-" if r["ece"] is None else f"{r['ece']:.3f}",
            f"{r['texts_per_s']:.0f}",
        )
    console.print(summary)
    for r in results:
        console.print(
            f"model [bold]{r['version']}[/]  rows {r['rows']}  "
            f"accuracy [bold]{r['accuracy']:.3f}[/]  macro-F1 [bold]{r['macro_f1']:.3f}[/]"
        )
        print_evaluation(r["_evaluation"], r["version"], r["rows"])


@contextmanager
def step_bar(steps: int) -> Iterator[Any]:
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        yield bar


@app.command("train")
def train(
    corpus: Annotated[Path, typer.Option(help="folder with the corpora and MANIFEST.md")],
    out: Annotated[Path, typer.Option(help="model file to write (.npz)")],
    exclude: Annotated[
        list[Path] | None,
        typer.Option(help="labelled CSV never to train on (default: the bank validation set)"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=50, help="first N rows of each corpus (quick checks)")
    ] = None,
    holdout_dir: Annotated[
        Path | None, typer.Option(help="also write each held-out split as label,text CSV here")
    ] = None,
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            help="labelled CSV (label,text) to train on as well, e.g. from `c360 sentiment "
            "corrections --out`; repeatable. The shipped model is trained without it."
        ),
    ] = None,
    network: Annotated[
        list[str] | None,
        typer.Option(
            "--network",
            metavar="chars|words[:SEED]",
            # The backslash keeps rich from reading [train] as markup (and dropping it).
            help="a CNN to stack with the polar head, over characters or jieba words, with its "
            "seed (default 20261129); repeatable, the networks' mean logit is stacked. Needs "
            "JAX and gensim: pip install 'c360\\[train]'. Default: the shipped model's "
            "networks (see sentiment/MODEL.md)",
        ),
    ] = None,
    linear: Annotated[
        bool,
        typer.Option("--linear", help="no network: the linear heads alone (~2 min)"),
    ] = False,
) -> None:
    """Train the default scorer from the corpora (deterministic: same inputs, same bytes)."""
    from sentiment import corpora
    from sentiment.train import DEFAULT_NETWORKS, STEPS, holdout_csv_rows, parse_network
    from sentiment.train import train as train_model

    if linear and network:
        fail("--linear trains no network; give --network or --linear, not both")
    try:
        networks = () if linear else tuple(map(parse_network, network or ())) or DEFAULT_NETWORKS
    except ValueError as exc:
        fail(str(exc))
    missing = [m for m in ("jax", "optax", "gensim") if networks and find_spec(m) is None]
    if missing:
        fail(
            f"training the networks needs {', '.join(missing)}: pip install -e '.\\[train]' "
            "(or --linear for the linear heads alone)"
        )
    if not corpus.is_dir():
        fail(f"{corpus} is not a folder; give the corpora folder, e.g. ../shared/data/sentiment")
    excluded_files = exclude if exclude is not None else [BANK_VALIDATION]
    banned: list[str] = []
    for path in excluded_files:
        if not path.is_file():
            fail(f"{path} does not exist; give a labelled CSV (label,text) to keep out")
        try:
            banned.extend(read_labelled(path)[1])
        except ValueError as exc:
            fail(str(exc))
    extra_rows: list[tuple[str, str]] = []
    for path in extra or []:
        if not path.is_file():
            fail(f"{path} does not exist; export corrections with `c360 sentiment corrections`")
        try:
            labels, texts = read_labelled(path, allow_empty=True)
        except ValueError as exc:
            fail(str(exc))
        unusable = sorted(set(labels) - set(LABEL_ORDER[:3]))
        if unusable:
            fail(f"{path.name}: --extra rows need POSITIVE, NEUTRAL or NEGATIVE, not {unusable}")
        extra_rows.extend(zip(labels, texts, strict=True))
    started = time.perf_counter()
    with step_bar(len(STEPS)) as bar:
        task = bar.add_task("training", total=len(STEPS))
        seen: list[str] = []

        def on_step(name: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(name)
            bar.update(task, description=name)

        try:
            result = train_model(
                corpus,
                out,
                exclude=banned,
                limit=limit,
                extra=extra_rows,
                networks=networks,
                on_step=on_step,
            )
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            fail(str(exc))
        bar.advance(task)
    table = Table(title=f"held-out splits ({time.perf_counter() - started:.0f}s)")
    for column in ("corpus", "rows", "classes", "accuracy"):
        table.add_column(column, justify="left" if column == "corpus" else "right")
    for name, fig in result.holdout.items():
        acc = fig["accuracy"]
        table.add_row(
            name, str(fig["rows"]), str(fig["classes"]), "-" if acc is None else f"{acc:.4f}"
        )
    console.print(table)
    console.print(
        f"trained [bold]{result.version}[/] on {result.train_rows} rows "
        f"({result.emotion_rows} with emotions; {result.excluded} validation text(s) kept out"
        + (f"; {result.extra_rows} of {len(extra_rows)} --extra row(s)" if extra else "")
        + ")"
    )
    console.print(f"sha256 {result.sha256}")
    console.print(f"-> {out}  (use it: export C360_SENTIMENT_MODEL={out})")
    if holdout_dir is not None:
        splits = corpora.split(corpus, banned, limit=limit)
        holdout_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in sorted(splits.holdout.items()):
            with (holdout_dir / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["label", "text"])
                writer.writerows(holdout_csv_rows(rows))
        console.print(f"held-out splits written to {holdout_dir}")


@app.command("corrections")
def corrections(
    out: Annotated[Path, typer.Option(help="CSV to write (label,text,model_label)")],
) -> None:
    """Export the labels people corrected (correctPostLabel) as training data for
    `c360 sentiment train --extra FILE`."""
    from graph.repositories import social as repo

    settings = load_settings()

    async def go() -> list[dict[str, Any]]:
        async with graph(settings) as store:
            return await repo.label_corrections(store)

    corrected = [r for r in run(go()) if (r.get("text") or "").strip()]
    # A post corrected to UNSUPPORTED (not Chinese, no opinion to learn) teaches no polarity,
    # and `train --extra` refuses any label but the three: left out, and counted.
    rows = [r for r in corrected if r["label"] in LABEL_ORDER[:3]]
    left_out = len(corrected) - len(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    # 0600: the texts are people's posts, written outside the data dir.
    with io.TextIOWrapper(create_private(out), encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "text", "model_label"])
        writer.writerows([r["label"], r["text"], r.get("modelLabel") or ""] for r in rows)
    by_label = {label: sum(r["label"] == label for r in rows) for label in LABEL_ORDER[:3]}
    console.print(
        f"{len(rows)} corrected post(s) -> {out} "
        f"({', '.join(f'{k.lower()} {v}' for k, v in by_label.items())}"
        + (f"; {left_out} corrected to UNSUPPORTED left out" if left_out else "")
        + f"); train on them with `c360 sentiment train --corpus DIR --out PATH --extra {out}`"
    )


RESCORE_KEY = "rescore"


def since_bound(value: str) -> str:
    """``--since`` in the stored time format (ISO-8601 UTC to the second, with a Z), so the
    graph compares instants: an offset is honoured, a time without one is UTC, a date alone is
    its midnight UTC. ValueError (one sentence) for anything else."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--since {value!r} is not an ISO-8601 date or time; give e.g. 2025-03-01, "
            "2025-03-01T08:00:00Z or 2025-03-01T08:00:00+08:00"
        ) from None
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if utc.microsecond:  # stored times are whole seconds: the first one at or after the bound
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


@app.command("rescore")
def rescore(
    since: Annotated[
        str | None,
        typer.Option(
            help="only posts created at or after this ISO-8601 time (an offset is honoured; "
            "without one, UTC; a date alone: its midnight UTC)"
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="default, snownlp or a model file (default: the active)")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="posts per batch")] = 1000,
    restart: Annotated[bool, typer.Option(help="ignore a checkpoint from an earlier run")] = False,
) -> None:
    """Re-label stored posts with a model, in batches; resumes after an interruption."""
    from graph.repositories import social as repo
    from hub.cli.ingest import checkpoints
    from ingest.checkpoint import Checkpoint
    from ingest.social.pipeline import sentiment_props

    try:
        bound = since_bound(since) if since is not None else None
    except ValueError as exc:
        fail(str(exc))
    settings = load_settings()
    config = config_for(settings, model or settings.sentiment_model or DEFAULT)

    async def go() -> None:
        checkpoint = Checkpoint(checkpoints(settings) / "rescore.json")
        with BatchScorer(config) as scorer:
            version = scorer.version
            job = {"model": version, "since": bound}
            state = checkpoint.get(RESCORE_KEY) or {}
            resume = not restart and state.get("job") == job
            after = state.get("after") if resume else None
            done = int(state.get("done", 0)) if resume else 0
            if resume and after:
                console.print(f"resuming after {done} post(s) already rescored")
            by_label: dict[str, int] = {}
            async with graph(settings) as store:
                with Progress(
                    SpinnerColumn(),
                    TextColumn("[bold]rescoring with " + version),
                    TextColumn("{task.completed} posts"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                ) as bar:
                    task = bar.add_task("rescore", total=None, completed=done)
                    while True:
                        rows = await repo.posts_to_rescore(store, bound, after, batch)
                        if not rows:
                            break
                        scores = scorer.score([r["text"] or "" for r in rows])
                        await repo.set_sentiment(
                            store,
                            [
                                {
                                    "platform": r["platform"],
                                    "postId": r["postId"],
                                    "props": sentiment_props(s, version),
                                }
                                for r, s in zip(rows, scores, strict=True)
                            ],
                        )
                        for s in scores:
                            by_label[s.label.value] = by_label.get(s.label.value, 0) + 1
                        last = rows[-1]
                        after = [last["createdAt"], last["platform"], last["postId"]]
                        done += len(rows)
                        # After the write, never before: a crash redoes at most one batch.
                        checkpoint.set(RESCORE_KEY, {"job": job, "after": after, "done": done})
                        bar.advance(task, len(rows))
        checkpoint.clear(RESCORE_KEY)
        table = Table(title=f"rescored with {version}", show_header=False)
        table.add_row("posts", str(done))
        for label in LABEL_ORDER:
            table.add_row(label.lower() + " (this run)", str(by_label.get(label, 0)))
        console.print(table)

    try:
        run(go())
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
