from __future__ import annotations

import pytest

from sentiment.evaluation import confidence, macro_f1, restrict
from sentiment.labels import Label
from sentiment.metrics import evaluate
from sentiment.scorer import UNSUPPORTED, Probabilities, Score

PN = ["POSITIVE", "NEGATIVE"]


def test_restrict_takes_the_most_probable_allowed_label() -> None:
    s = Score(0.45, Label.NEUTRAL, Probabilities(0.3, 0.45, 0.25), "neutral")
    assert restrict(s, PN) == "POSITIVE"
    assert restrict(s, ["NEUTRAL", "NEGATIVE"]) == "NEUTRAL"
    assert restrict(UNSUPPORTED, PN) == "UNSUPPORTED"


def test_restrict_without_probabilities_is_a_half_cut() -> None:
    # snownlp: its 0.4-0.6 band is NEUTRAL, but two-class scoring compares with 0.5.
    assert restrict(Score(0.55, Label.NEUTRAL), PN) == "POSITIVE"
    assert restrict(Score(0.45, Label.NEUTRAL), PN) == "NEGATIVE"
    assert restrict(Score(0.5, Label.NEUTRAL), [*PN, "NEUTRAL"]) == "NEUTRAL"


def test_macro_f1_counts_only_true_classes() -> None:
    truth = ["POSITIVE", "POSITIVE", "NEGATIVE", "NEGATIVE"]
    pred = ["POSITIVE", "UNSUPPORTED", "NEGATIVE", "POSITIVE"]
    result = evaluate(truth, pred, ["POSITIVE", "NEGATIVE", "UNSUPPORTED"])
    pos, neg = result.per_class[0].f1, result.per_class[1].f1
    assert macro_f1(result, sorted(set(truth))) == (pos + neg) / 2


def test_confidence_is_the_probability_of_the_prediction() -> None:
    s = Score(0.45, Label.NEUTRAL, Probabilities(0.3, 0.45, 0.25), "neutral")
    assert confidence(s) == pytest.approx(0.45)
    # Restricted to two labels: renormalised among them, as `--labels` predicts.
    assert confidence(s, PN) == pytest.approx(0.3 / 0.55)
    assert confidence(UNSUPPORTED) is None
    assert confidence(Score(0.55, Label.NEUTRAL)) is None  # snownlp: nothing to calibrate
