"""Score texts with the selected model: the bundled linear model (default), a model file built
by `c360 sentiment train`, or snownlp (the baseline, ``C360_SENTIMENT_MODEL=snownlp``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

from sentiment.labels import Label, is_chinese, label_for

DEFAULT = "default"
SNOWNLP = "snownlp"


@dataclass(frozen=True)
class ScorerConfig:
    """What a scorer needs; picklable, so pool workers can build their own scorer.

    ``model``: "default", "snownlp" or the path of a model file; ``positive``/``negative``:
    snownlp's thresholds (the linear model picks the most probable class)."""

    model: str | Path | None = DEFAULT
    positive: float = 0.6
    negative: float = 0.4

    @property
    def name(self) -> str:
        return str(self.model) if self.model not in (None, "") else DEFAULT


@dataclass(frozen=True)
class Probabilities:
    positive: float
    neutral: float
    negative: float


@dataclass(frozen=True)
class Score:
    score: float | None  # 0 (negative) .. 1 (positive); None: not scored
    label: Label
    probabilities: Probabilities | None = None
    emotion: str | None = None


UNSUPPORTED = Score(None, Label.UNSUPPORTED)


class Backend(Protocol):
    version: str
    parallel: bool  # worth a process pool (pure-Python per-text scoring)

    def score_many(self, texts: Sequence[str]) -> list[Score]: ...


class SnowNLPBackend:
    parallel = True

    def __init__(self, positive: float, negative: float) -> None:
        from snownlp import sentiment  # slow import (loads the bundled model): only when used

        self._classify = sentiment.classify
        self.positive, self.negative = positive, negative
        self.version = f"snownlp-{version('snownlp')}"

    def score_many(self, texts: Sequence[str]) -> list[Score]:
        out = []
        for text in texts:
            if not is_chinese(text):
                out.append(UNSUPPORTED)
                continue
            value = float(self._classify(text))
            out.append(Score(value, label_for(value, self.positive, self.negative)))
        return out


class LinearBackend:
    """The trained linear model: featurises and scores a whole batch in a few array ops."""

    parallel = False

    def __init__(self, path: Path | None = None) -> None:
        from sentiment.linear import BUNDLED, load

        self.model = load(path or BUNDLED)
        self.version = self.model.version

    def score_many(self, texts: Sequence[str]) -> list[Score]:
        out: list[Score] = [UNSUPPORTED] * len(texts)
        wanted = [i for i, t in enumerate(texts) if is_chinese(t)]
        if not wanted:
            return out
        pred = self.model.predict([texts[i] for i in wanted])
        for i, p, label, emotion in zip(
            wanted, pred.probabilities, pred.labels, pred.emotions, strict=True
        ):
            neg, neu, pos = (round(float(v), 4) for v in p)
            out[i] = Score(
                round(pos + 0.5 * neu, 4), Label(label), Probabilities(pos, neu, neg), emotion
            )
        return out


def backend(config: ScorerConfig) -> Backend:
    name = config.name
    if name == SNOWNLP:
        return SnowNLPBackend(config.positive, config.negative)
    if name == DEFAULT:
        return LinearBackend()
    path = Path(name).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"sentiment model {name!r} is neither 'default', 'snownlp' nor a model file; build "
            "one with `c360 sentiment train` or unset C360_SENTIMENT_MODEL"
        )
    return LinearBackend(path)


class Scorer:
    """Loads its model once; scoring is then pure CPU."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        self._backend = backend(self.config)
        self.version = self._backend.version
        self.parallel = self._backend.parallel

    def score_many(self, texts: Sequence[str]) -> list[Score]:
        return self._backend.score_many(texts)

    def score(self, text: str) -> Score:
        return self.score_many([text])[0]

    def raw(self, text: str) -> float | None:
        """The 0..1 score, or None for text the model cannot judge."""
        return self.score(text).score


def model_version(config: ScorerConfig | None = None) -> str:
    """The id stored with every post scored by this configuration."""
    return Scorer(config).version


__all__ = [
    "DEFAULT",
    "SNOWNLP",
    "UNSUPPORTED",
    "Probabilities",
    "Score",
    "Scorer",
    "ScorerConfig",
    "model_version",
]
