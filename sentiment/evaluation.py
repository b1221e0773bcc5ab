"""Pure helpers for `c360 sentiment eval`: restrict a prediction to some labels, macro-F1."""

from __future__ import annotations

from collections.abc import Sequence

from sentiment.labels import Label
from sentiment.metrics import Evaluation
from sentiment.scorer import Score


def restrict(score: Score, labels: Sequence[str]) -> str:
    """The most probable of ``labels`` for this score (UNSUPPORTED stays UNSUPPORTED).

    A model without three-class probabilities (snownlp) gives P(positive) = score and
    P(negative) = 1 - score, so POSITIVE,NEGATIVE is its 0.5 cut; its NEUTRAL comes only from
    its own thresholds."""
    if score.label is Label.UNSUPPORTED or score.score is None:
        return Label.UNSUPPORTED.value
    if score.probabilities is not None:
        p = score.probabilities
        probs = {"POSITIVE": p.positive, "NEUTRAL": p.neutral, "NEGATIVE": p.negative}
    else:
        own = 1.0 if score.label is Label.NEUTRAL else 0.0
        probs = {"POSITIVE": score.score, "NEUTRAL": own, "NEGATIVE": 1.0 - score.score}
    return max(labels, key=lambda label: (probs[label], -labels.index(label)))


def confidence(score: Score, labels: Sequence[str] | None = None) -> float | None:
    """The probability a model gives its own prediction (with ``labels``: of the most
    probable of them, renormalised among them); None for UNSUPPORTED or a model without
    class probabilities (snownlp), which has nothing to calibrate."""
    p = score.probabilities
    if score.label is Label.UNSUPPORTED or p is None:
        return None
    probs = {"POSITIVE": p.positive, "NEUTRAL": p.neutral, "NEGATIVE": p.negative}
    kept = [probs[label] for label in (labels or probs)]
    total = sum(kept)
    return max(kept) / total if total > 0 else None


def macro_f1(result: Evaluation, truth_labels: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in the truth (a predicted-only label such as
    UNSUPPORTED lowers the others' recall, it does not count as a class of its own)."""
    scores = [m.f1 for m in result.per_class if m.label in set(truth_labels)]
    return sum(scores) / len(scores) if scores else 0.0


__all__ = ["confidence", "macro_f1", "restrict"]
