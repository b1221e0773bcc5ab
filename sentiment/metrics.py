"""Evaluation maths, pure: confusion matrix, accuracy, per-class precision/recall/F1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    labels: list[str]
    matrix: list[list[int]]  # rows: true label, columns: predicted label
    accuracy: float
    per_class: list[ClassMetrics]


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    return matrix


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def evaluate(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> Evaluation:
    """Labels default to every label seen, in sorted order."""
    names = list(labels) if labels is not None else sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, names)
    correct = sum(matrix[i][i] for i in range(len(names)))
    per_class = []
    for i, name in enumerate(names):
        tp = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        precision = _ratio(tp, predicted_n)
        recall = _ratio(tp, support)
        f1 = _ratio(2 * tp, predicted_n + support)  # = 2PR/(P+R), defined as 0 when empty
        per_class.append(ClassMetrics(name, precision, recall, f1, support))
    return Evaluation(names, matrix, _ratio(correct, len(truth)), per_class)


__all__ = ["ClassMetrics", "Evaluation", "confusion_matrix", "evaluate"]
