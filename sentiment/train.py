"""Retrain snownlp's naive-Bayes sentiment classifier on domain texts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sentiment.scorer import SNOWNLP_SUFFIX, model_file, model_version


def read_docs(path: Path) -> list[str]:
    """One document per non-blank line."""
    with path.open(encoding="utf-8-sig") as fh:
        return [line.strip() for line in fh if line.strip()]


def train(pos_docs: Sequence[str], neg_docs: Sequence[str], out: Path) -> str:
    """Train, save to ``out`` (snownlp adds ``.3``) and return the model version."""
    from snownlp.sentiment import Sentiment

    if not pos_docs or not neg_docs:
        raise ValueError("training needs at least one positive and one negative text")
    out.parent.mkdir(parents=True, exist_ok=True)
    base = str(out)[: -len(SNOWNLP_SUFFIX)] if out.name.endswith(SNOWNLP_SUFFIX) else str(out)
    model = Sentiment()
    model.train(list(neg_docs), list(pos_docs))
    model.save(base)
    return model_version(model_file(Path(base)))


__all__ = ["read_docs", "train"]
