"""Sentiment for Chinese social posts: snownlp scoring, batch scoring, evaluation, retraining."""

from sentiment.batch import BatchScorer
from sentiment.labels import Label, is_chinese, label_for
from sentiment.scorer import Score, Scorer, ScorerConfig, model_version

__all__ = [
    "BatchScorer",
    "Label",
    "Score",
    "Scorer",
    "ScorerConfig",
    "is_chinese",
    "label_for",
    "model_version",
]
