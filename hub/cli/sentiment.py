"""`c360 sentiment eval|train`: measure the scorer on labelled data, retrain it on domain text."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import console, fail, load_settings
from sentiment.batch import BatchScorer
from sentiment.labels import Label
from sentiment.metrics import Evaluation, evaluate
from sentiment.scorer import ScorerConfig

app = typer.Typer(no_args_is_help=True, help="Evaluate and retrain the sentiment scorer.")

LABEL_ORDER = [
    Label.POSITIVE.value,
    Label.NEUTRAL.value,
    Label.NEGATIVE.value,
    Label.UNSUPPORTED.value,
]


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
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
    if not labels:
        raise ValueError(f"{path.name} has no rows")
    return labels, texts


def print_evaluation(result: Evaluation, model: str, n: int) -> None:
    console.print(f"model [bold]{model}[/]  rows {n}  accuracy [bold]{result.accuracy:.3f}[/]")
    per_class = Table(title="per class")
    for column in ("label", "precision", "recall", "F1", "support"):
        per_class.add_column(column, justify="left" if column == "label" else "right")
    for m in result.per_class:
        per_class.add_row(
            m.label, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support)
        )
    console.print(per_class)
    matrix = Table(title="confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("true \\ predicted")
    for label in result.labels:
        matrix.add_column(label, justify="right")
    for label, row in zip(result.labels, result.matrix, strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    console.print(matrix)


@app.command("eval")
def eval_(file: Annotated[Path, typer.Argument(help="CSV with columns label,text")]) -> None:
    """Score a labelled CSV and print accuracy, per-class precision/recall/F1, confusion matrix."""
    settings = load_settings()
    if not file.is_file():
        fail(f"{file} does not exist; give a CSV with columns label,text")
    try:
        truth, texts = read_labelled(file)
    except ValueError as exc:
        fail(str(exc))
    config = ScorerConfig(
        settings.sentiment_model, settings.sentiment_positive, settings.sentiment_negative
    )
    try:
        with BatchScorer(config) as scorer:
            predicted = [s.label.value for s in scorer.score(texts)]
            model = scorer.version
    except FileNotFoundError as exc:
        fail(str(exc))
    labels = [label for label in LABEL_ORDER if label in set(truth) | set(predicted)]
    print_evaluation(evaluate(truth, predicted, labels), model, len(truth))


@app.command("train")
def train(
    pos: Annotated[Path, typer.Option(help="positive texts, one per line")],
    neg: Annotated[Path, typer.Option(help="negative texts, one per line")],
    out: Annotated[Path | None, typer.Option(help="model path (default: data dir)")] = None,
) -> None:
    """Retrain snownlp's sentiment classifier on domain texts; use it via C360_SENTIMENT_MODEL."""
    from sentiment.train import read_docs
    from sentiment.train import train as train_model

    for path in (pos, neg):
        if not path.is_file():
            fail(f"{path} does not exist; give a UTF-8 text file with one text per line")
    settings = load_settings()
    target = out or settings.resolved_data_dir / "sentiment" / "model.marshal"
    with console.status("training"):
        try:
            version = train_model(read_docs(pos), read_docs(neg), target)
        except ValueError as exc:
            fail(str(exc))
    console.print(f"trained [bold]{version}[/] -> {target}.3")
    console.print(f"use it: export C360_SENTIMENT_MODEL={target}")
