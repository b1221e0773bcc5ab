"""The polar head's features: which of POSITIVE / NEGATIVE, once a text is not NEUTRAL.

NB-SVM (Wang & Manning 2012): binary presence of character 1-4-grams and jieba words and word
bigrams, each scaled by its naive-Bayes log-count ratio log(P(f | POSITIVE) / P(f | NEGATIVE))
from the polar training rows, rows L2-normalised, then a logistic regression. On the weibo2018
held-out split this two-class head splits the polar mass better than the three-class head's
own POSITIVE/NEGATIVE columns (0.862 against 0.841, sentiment/MODEL.md), and it helps the
other sets too.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import rjieba
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from sentiment.features import BOUNDARY, MAX_CHARS
from sentiment.normalize import emoticons, normalize

WORD_FEATURES = 2**20
# Laplace smoothing of the feature counts in the ratio: an n-gram seen once on one side only
# gets a modest weight, not an unbounded one.
SMOOTHING = 1.0


def word_tokens(text: str) -> list[str]:
    """jieba words and word bigrams of the normalised text, within the segments between masked
    domain nouns (as the character n-grams), plus one token per emoticon."""
    body, emos = emoticons(normalize(text)[:MAX_CHARS])
    out: list[str] = []
    for part in BOUNDARY.split(body):
        words = [w for w in rjieba.cut(part) if w.strip()]
        out.extend(f"w:{w}" for w in words)
        out.extend(f"b:{a} {b}" for a, b in pairwise(words))
    out.extend(f"[{e}]" for e in emos)
    return out


def word_vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=word_tokens,
        n_features=WORD_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def presence(char_counts: sparse.csr_matrix, texts: Sequence[str]) -> sparse.csr_matrix:
    """Binary [char n-grams | words] matrix; ``char_counts`` are the three-class head's hashed
    counts of the same texts (reused, not recounted)."""
    words = word_vectorizer().transform(texts)
    x = sparse.hstack([char_counts, words], format="csr", dtype=np.float32)
    x.data[:] = 1.0
    return x


def fit_ratio(x: sparse.csr_matrix, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted naive-Bayes log-count ratio per column of the binary matrix ``x``; rounded to
    float16 (as stored), so training sees the features scoring will see."""
    p = SMOOTHING + np.asarray(x[positive].T @ weights[positive]).ravel()
    q = SMOOTHING + np.asarray(x[~positive].T @ weights[~positive]).ravel()
    ratio: np.ndarray = np.log((p / p.sum()) / (q / q.sum())).astype(np.float16)
    return ratio.astype(np.float32)


def scale(x: sparse.csr_matrix, ratio: np.ndarray) -> sparse.csr_matrix:
    """Presence times ratio, rows scaled to unit length."""
    out = x.multiply(ratio.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(out.multiply(out).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).dot(out).tocsr().astype(np.float32)


def binary_logits(z: np.ndarray) -> np.ndarray:
    """(n, 1) logits of POSITIVE as two-column [NEGATIVE, POSITIVE] logits for a softmax."""
    column = z.reshape(-1, 1)
    return np.hstack([np.zeros_like(column), column])


def split_polar(probs: np.ndarray, positive: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Three-class probabilities whose POSITIVE + NEGATIVE mass is shared out by the polar
    head's P(POSITIVE); NEUTRAL stays the three-class head's."""
    pos, neg = classes.index("POSITIVE"), classes.index("NEGATIVE")
    out = probs.copy()
    mass = probs[:, pos] + probs[:, neg]
    out[:, pos] = mass * positive
    out[:, neg] = mass * (1.0 - positive)
    return out


__all__ = [
    "WORD_FEATURES",
    "binary_logits",
    "fit_ratio",
    "presence",
    "scale",
    "split_polar",
    "word_tokens",
    "word_vectorizer",
]
