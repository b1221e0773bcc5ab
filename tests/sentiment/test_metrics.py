from __future__ import annotations

import pytest

from sentiment.metrics import calibration_error, confusion_matrix, evaluate


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


def test_calibration_error_weighs_bins_by_their_rows() -> None:
    # Bin 0.9: confidence 0.95 x2, both right (gap 0.05); bin 0.6: 0.6 x2, one right (gap 0.1).
    assert calibration_error([0.95, 0.95, 0.6, 0.6], [True, True, True, False]) == pytest.approx(
        (2 * 0.05 + 2 * 0.1) / 4
    )
    assert calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)  # top bin
    assert calibration_error([0.9] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.4)
    assert calibration_error([], []) == 0.0
    with pytest.raises(ValueError):
        calibration_error([0.5], [])
