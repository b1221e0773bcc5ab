"""Features of normalised text: character 1-4-grams plus whole Weibo emoticons, hashed.

Hashing keeps the model file a few coefficient matrices (no vocabulary to store) and makes
featurisation a pure function of the text, so training and scoring cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from sentiment.normalize import BANK, LATIN, NUMBER, SERVICE, emoticons, normalize

N_FEATURES = 2**20
MAX_N = 4
# Long reviews say what they mean early; the cut bounds scoring time per text. The author's own
# words come first in a normalised repost, so a long chain is what gets cut.
MAX_CHARS = 300


# Masked domain nouns and spaces end an n-gram and are no feature themselves: in the corpora
# "mentions a bank or a card" leans negative, which says nothing about a bank's own stream.
# Long numbers and Latin runs too: a date or an order number appended to a post must not
# change its label (as a feature, "has a number" leaned NEUTRAL; sentiment/MODEL.md).
BOUNDARY = re.compile(f"[\\s{BANK}{SERVICE}{NUMBER}{LATIN}]+")


def tokens(text: str) -> list[str]:
    """Character 1..4-grams of the normalised text (within segments between masked domain nouns)
    and one token per emoticon ("[哈哈]")."""
    body, emos = emoticons(normalize(text)[:MAX_CHARS])
    out: list[str] = []
    for part in BOUNDARY.split(body):
        n = len(part)
        out.extend(part)
        for size in range(2, min(MAX_N, n) + 1):
            out.extend(part[i : i + size] for i in range(n - size + 1))
    out.extend(f"[{e}]" for e in emos)
    return out


def vectorizer() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=tokens,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear tf x idf, rows scaled to unit length (what the linear models are fit on)."""
    x = counts.tocsr(copy=True)
    np.log1p(x.data, out=x.data)
    x = x.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).dot(x).tocsr().astype(np.float32)


def featurize(texts: Sequence[str], idf: np.ndarray) -> sparse.csr_matrix:
    return weigh(vectorizer().transform(texts), idf)


def fit_idf(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed idf (as scikit-learn's TfidfTransformer) from document frequencies."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf: np.ndarray = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
    return idf


__all__ = [
    "BOUNDARY",
    "MAX_CHARS",
    "MAX_N",
    "N_FEATURES",
    "featurize",
    "fit_idf",
    "tokens",
    "vectorizer",
    "weigh",
]
