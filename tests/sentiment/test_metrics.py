from __future__ import annotations

import pytest

from sentiment.metrics import confusion_matrix, evaluate


def test_confusion_matrix_rows_are_truth() -> None:
    m = confusion_matrix(["P", "P", "N"], ["P", "N", "N"], ["P", "N"])
    assert m == [[1, 1], [0, 1]]


def test_evaluate_precision_recall_f1() -> None:
    truth = ["P", "P", "P", "N", "N"]
    pred = ["P", "P", "N", "N", "P"]
    result = evaluate(truth, pred, ["P", "N"])
    assert result.accuracy == pytest.approx(3 / 5)
    p, n = result.per_class
    assert (p.precision, p.recall, p.support) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    assert p.f1 == pytest.approx(2 / 3)
    assert (n.precision, n.recall) == (pytest.approx(1 / 2), pytest.approx(1 / 2))


def test_class_never_predicted_scores_zero() -> None:
    result = evaluate(["A", "B"], ["A", "A"], ["A", "B"])
    assert result.per_class[1].precision == 0.0
    assert result.per_class[1].f1 == 0.0


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        confusion_matrix(["A"], [], ["A"])
