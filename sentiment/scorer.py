"""Score one text with snownlp: the default model or one retrained by `c360 sentiment train`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from sentiment.labels import Label, is_chinese, label_for

# snownlp's Bayes.save/load append ".3" to the name on Python 3.
SNOWNLP_SUFFIX = ".3"


@dataclass(frozen=True)
class ScorerConfig:
    """What a scorer needs; picklable, so pool workers can build their own scorer."""

    model: Path | None = None
    positive: float = 0.6
    negative: float = 0.4


@dataclass(frozen=True)
class Score:
    score: float | None
    label: Label


def model_file(model: Path) -> Path:
    """The file on disk for a model path as snownlp names it (with or without ``.3``)."""
    return (
        model
        if model.name.endswith(SNOWNLP_SUFFIX)
        else model.with_name(model.name + SNOWNLP_SUFFIX)
    )


def model_version(model: Path | None) -> str:
    """ "snownlp-0.12.3" for the bundled model, "custom-<sha8>" for a retrained one."""
    if model is None:
        return f"snownlp-{version('snownlp')}"
    digest = hashlib.sha256(model_file(model).read_bytes()).hexdigest()
    return f"custom-{digest[:8]}"


class Scorer:
    """Loads its model once; ``score`` is then pure CPU."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        from snownlp import sentiment  # slow import (loads the bundled model): only when used

        self.config = config or ScorerConfig()
        if self.config.model is None:
            self._classify = sentiment.classify
        else:
            path = model_file(self.config.model)
            if not path.exists():
                raise FileNotFoundError(
                    f"sentiment model {path} not found; run `c360 sentiment train` or unset "
                    "C360_SENTIMENT_MODEL"
                )
            custom = sentiment.Sentiment()
            custom.load(str(path)[: -len(SNOWNLP_SUFFIX)])
            self._classify = custom.classify
        self.version = model_version(self.config.model)

    def raw(self, text: str) -> float | None:
        """snownlp's probability of positive, or None for text it cannot judge."""
        if not is_chinese(text):
            return None
        return float(self._classify(text))

    def score(self, text: str) -> Score:
        value = self.raw(text)
        return Score(value, label_for(value, self.config.positive, self.config.negative))


__all__ = ["Score", "Scorer", "ScorerConfig", "model_file", "model_version"]
