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


def calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """Expected calibration error (Guo et al. 2017): rows binned by the confidence of their
    prediction into ``bins`` equal-width bins; the mean over bins of |accuracy - mean
    confidence|, weighted by the bins' share of rows. 0 for no rows."""
    if len(confidence) != len(correct):
        raise ValueError("confidences and outcomes differ in length")
    if not confidence:
        return 0.0
    sums = [[0.0, 0.0] for _ in range(bins)]  # per bin: confidences, correct predictions
    for c, ok in zip(confidence, correct, strict=True):
        b = sums[min(bins - 1, int(c * bins))]  # a confidence of 1.0 goes in the top bin
        b[0] += c
        b[1] += ok
    return sum(abs(conf - hits) for conf, hits in sums) / len(confidence)


__all__ = ["ClassMetrics", "Evaluation", "calibration_error", "confusion_matrix", "evaluate"]
