"""The training corpora (see MANIFEST.md beside them): read, map to c360 labels, split.

Every file becomes :class:`Example` rows with a three-class ``label`` (or None where the source
is ambiguous, e.g. *surprise*) and an ``emotion`` (or None for two-class sources). The split
is a hash of the normalised text, so it is deterministic, independent of row order, and the
same text never lands on both sides.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sentiment.normalize import normalize as _normalize
from sentiment.normalize import split_form

normalize = lru_cache(maxsize=400_000)(_normalize)  # each text is normalised ~4 times here

POSITIVE, NEUTRAL, NEGATIVE = "POSITIVE", "NEUTRAL", "NEGATIVE"
EMOTIONS = ("happy", "angry", "sad", "fear", "surprise", "neutral")

# MANIFEST.md's three-way mapping; surprise is ambiguous, so it trains emotions only.
EMOTION_LABEL = {
    "happy": POSITIVE,
    "angry": NEGATIVE,
    "sad": NEGATIVE,
    "fear": NEGATIVE,
    "neutral": NEUTRAL,
    "surprise": None,
}
NLPCC_EMOTION = {
    "none": "neutral",
    "like": "happy",
    "happiness": "happy",
    "disgust": "angry",
    "anger": "angry",
    "sadness": "sad",
    "fear": "fear",
    "surprise": "surprise",
}
BINARY = {"1": POSITIVE, "0": NEGATIVE}
FINFE = {"0": NEGATIVE, "1": NEUTRAL, "2": POSITIVE}

HOLDOUT_PERCENT = 10  # of each corpus without its own evaluation file


@dataclass(frozen=True)
class Example:
    corpus: str
    text: str
    label: str | None
    emotion: str | None


@dataclass(frozen=True)
class Corpus:
    """One source: its file, the column holding the text, and how a row maps to labels."""

    name: str
    file: str
    text_column: str
    two_class: bool

    def examples(self, root: Path, limit: int | None = None) -> Iterator[Example]:
        with (root / self.file).open(encoding="utf-8-sig", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh)):
                if limit is not None and n >= limit:
                    return
                text = (row.get(self.text_column) or "").strip().lstrip("\ufeff")
                if text:
                    label, emotion = _labels(self.name, row)
                    yield Example(self.name, text, label, emotion)


def _labels(corpus: str, row: dict[str, str]) -> tuple[str | None, str | None]:
    if corpus.startswith("smp2020"):
        emotion = row["emotion"].strip()
        return EMOTION_LABEL[emotion], emotion
    if corpus == "nlpcc2014":
        emotion = NLPCC_EMOTION[row["emotion1"].strip()]
        return EMOTION_LABEL[emotion], emotion
    if corpus == "finfe":
        return FINFE[row["label"].strip()], None
    if corpus == "bank_seed":
        return row["label"].strip(), None
    return BINARY[row["label"].strip()], None


CORPORA = (
    Corpus("weibo_senti_100k", "weibo_senti_100k_partial.csv", "review", two_class=True),
    Corpus("weibo2018", "weibo2018_train.csv", "text", two_class=True),
    Corpus("online_shopping", "online_shopping_9_cats.csv", "review", two_class=True),
    Corpus("smp2020", "smp2020_usual_train.csv", "text", two_class=False),
    Corpus("nlpcc2014", "nlpcc2014_weibo_emotion.csv", "text", two_class=False),
    Corpus("finfe", "finfe_train.csv", "text", two_class=False),
)
# Hand-written bank-domain posts shipped with the package (sentiment/data/bank_seed.csv): the
# corpora have no bank questions, announcements or service praise, which is most of a bank's
# stream. Disjoint from the bank validation set (the exclude list enforces it); all trained on.
BANK_SEED = Corpus(
    "bank_seed", str(Path(__file__).parent / "data" / "bank_seed.csv"), "text", two_class=False
)
# Rows given to `c360 sentiment train --extra` (exported label corrections): never in the
# shipped model, which is reproducible from the corpora alone.
EXTRA = "extra"
# SMP2020 ships its own labelled evaluation file: that is its held-out split.
SMP2020_EVAL = Corpus("smp2020", "smp2020_usual_eval_labeled.csv", "text", two_class=False)


def bucket(text: str) -> int:
    """0..99 from the normalised text (stable across runs, machines and Python versions).

    Hashed with its numbers as written (:func:`split_form`): number placeholders came after
    the split, which stays the one every earlier model was measured on. A training text that
    normalises like a held-out one is still dropped (:func:`split`)."""
    digest = hashlib.blake2b(split_form(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def consistent(examples: Iterable[Example]) -> list[Example]:
    """One row per (corpus, normalised text); a text its corpus labels two ways is dropped
    (MANIFEST.md: ~760 such texts in weibo_senti_100k, more in FinFE)."""
    seen: dict[tuple[str, str], Example | None] = {}
    for ex in examples:
        key = (ex.corpus, normalize(ex.text))
        if key not in seen:
            seen[key] = ex
        else:
            first = seen[key]
            if first is not None and (first.label, first.emotion) != (ex.label, ex.emotion):
                seen[key] = None
    return [ex for ex in seen.values() if ex is not None]


@dataclass
class Splits:
    train: list[Example]
    holdout: dict[str, list[Example]]  # corpus -> held-out examples
    excluded: int  # training texts dropped because a validation text equals them


def split(
    root: Path,
    exclude: Iterable[str] = (),
    limit: int | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> Splits:
    """Training rows and per-corpus held-out rows; ``exclude``: texts that must never be
    trained on (the bank validation set), compared after normalisation; ``limit``: the first
    N rows of each file only; ``extra``: (label, text) rows a person vouched for (exported
    label corrections), all trained on as corpus ``extra`` unless excluded or held out."""
    missing = [c.file for c in (*CORPORA, SMP2020_EVAL) if not (root / c.file).is_file()]
    if missing:
        raise FileNotFoundError(f"{root} lacks {', '.join(missing)} (see its MANIFEST.md)")
    banned = {normalize(t) for t in exclude}
    train: list[Example] = []
    holdout: dict[str, list[Example]] = {}
    excluded = 0
    smp_eval = consistent(SMP2020_EVAL.examples(root, limit))
    held_texts = {normalize(ex.text) for ex in smp_eval}
    holdout["smp2020"] = smp_eval
    for corpus in CORPORA:
        for ex in consistent(corpus.examples(root, limit)):
            norm = normalize(ex.text)
            if norm in banned:
                excluded += 1
                continue
            if corpus.name == "smp2020":
                if norm not in held_texts:
                    train.append(ex)
            elif bucket(ex.text) < HOLDOUT_PERCENT:
                holdout.setdefault(corpus.name, []).append(ex)
            else:
                train.append(ex)
    extras = (Example(EXTRA, text, label, None) for label, text in extra)
    for ex in (*consistent(BANK_SEED.examples(root)), *consistent(extras)):
        if normalize(ex.text) in banned:
            excluded += 1
        else:
            train.append(ex)
    # A text held out anywhere is held out everywhere (corpora share Weibo posts).
    held_all = {normalize(ex.text) for rows in holdout.values() for ex in rows}
    kept = [ex for ex in train if normalize(ex.text) not in held_all]
    return Splits(kept, holdout, excluded)


__all__ = [
    "BANK_SEED",
    "CORPORA",
    "EMOTIONS",
    "EMOTION_LABEL",
    "EXTRA",
    "HOLDOUT_PERCENT",
    "NEGATIVE",
    "NEUTRAL",
    "POSITIVE",
    "Corpus",
    "Example",
    "Splits",
    "bucket",
    "consistent",
    "split",
]
