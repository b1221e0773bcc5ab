"""A small character (or word) CNN for the polar decision (POSITIVE vs NEGATIVE), scored in NumPy.

Kim (2014)-style: character (and whole-emoticon) embeddings, convolutions of width 2, 3 and 4
with ReLU, max over time, one logit. It sees word order, which the NB-SVM polar head
(sentiment/polar.py) does not, and the two are stacked on the calibration slice
(sentiment/linear.py). Trained here from scratch by sentiment/neural_train.py (JAX, the
`[train]` extra); scoring needs only NumPy, so the runtime has no network framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import rjieba
from threadpoolctl import threadpool_limits

from sentiment.features import MAX_CHARS
from sentiment.normalize import BANK, LATIN, NUMBER, SERVICE, normalize

# Tokens seen by the network per text: the author's own words come first after normalisation.
MAX_TOKENS = 128
WIDTHS = (2, 3, 4)
PAD, UNKNOWN = 0, 1
MIN_LEN = 16  # shortest padded length (fewer shapes for XLA to compile in training)
# Rows scored together: a batch's (rows, length, filters) sums stay small enough for the
# cache (4 networks on 5,055 bank posts: 1.81 s in batches of 512, 1.35 s in 128).
BATCH = 128
# Long numbers and Latin runs are padding too, as they are boundaries for the linear heads.
_MASKS = frozenset((BANK, SERVICE, NUMBER, LATIN))
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
# Word sequences: emoticons and the masked nouns are tokens of their own, jieba cuts the rest.
_WORD_SPLIT = re.compile(f"({_EMOTICON.pattern}|[{BANK}{SERVICE}{NUMBER}{LATIN}])")


def sequence_tokens(text: str) -> list[str]:
    """Normalised characters in order (spaces dropped), each Weibo emoticon as one token."""
    norm = normalize(text)[:MAX_CHARS]
    out: list[str] = []
    pos = 0
    for found in _EMOTICON.finditer(norm):
        out.extend(c for c in norm[pos : found.start()] if c != " ")
        out.append(found.group())
        pos = found.end()
    out.extend(c for c in norm[pos:] if c != " ")
    return out[:MAX_TOKENS]


def sequence_words(text: str) -> list[str]:
    """rjieba words of the normalised text in order (whitespace dropped), each Weibo emoticon
    and each masked noun one token (the masks become padding in ``encode``)."""
    out: list[str] = []
    for part in _WORD_SPLIT.split(normalize(text)[:MAX_CHARS]):
        if not part:
            continue
        if part in _MASKS or _EMOTICON.fullmatch(part):
            out.append(part)
        else:
            out.extend(w for w in rjieba.cut(part) if w.strip())
    return out[:MAX_TOKENS]


# How a network reads a text: "chars" or "words" (`train --network chars|words[:SEED]`); the
# shipped model has no network.
Tokens = Literal["chars", "words"]
TOKENIZERS: dict[Tokens, Callable[[str], list[str]]] = {
    "chars": sequence_tokens,
    "words": sequence_words,
}


def encode(tokens: Sequence[str], index: dict[str, int]) -> list[int]:
    """Token ids; an empty text is one unknown token (every row needs a window). Masked bank
    names and banking nouns are padding (zero vectors, never pooled), as they are boundaries
    and never features for the linear heads: in the corpora "mentions a bank or a card" leans
    negative, which says nothing about a bank's own stream."""
    ids = [PAD if t in _MASKS else index.get(t, UNKNOWN) for t in tokens]
    return ids if any(ids) else [UNKNOWN]


def pad(seqs: Sequence[Sequence[int]], max_len: int = MAX_TOKENS) -> np.ndarray:
    """(n, L) ids, L the longest row rounded up to a power of two (few distinct shapes)."""
    longest = max(MIN_LEN, max(len(s) for s in seqs))
    width = min(max_len, 1 << (longest - 1).bit_length())
    out = np.zeros((len(seqs), width), dtype=np.int32)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s[:width]
    return out


@dataclass(frozen=True, eq=False)
class CharCNN:
    """Weights as trained (widened to float32); ``logits`` is the POSITIVE logit per text."""

    vocab: tuple[str, ...]
    embedding: np.ndarray  # (vocab, E)
    convs: tuple[np.ndarray, ...]  # per width k: (k * E, F)
    biases: tuple[np.ndarray, ...]  # per width: (F,)
    out: np.ndarray  # (len(WIDTHS) * F,)
    out_bias: float
    tokens: Tokens = "chars"

    @cached_property
    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.vocab)}

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        tokenize = TOKENIZERS[self.tokens]
        return self.encode_rows([tokenize(t) for t in texts])

    def encode_rows(self, token_rows: Sequence[Sequence[str]]) -> list[list[int]]:
        index = self.index
        return [encode(row, index) for row in token_rows]

    def logits(self, texts: Sequence[str], batch: int = BATCH) -> np.ndarray:
        return self.logits_of(self.ids(texts), batch)

    def logits_of(self, seqs: Sequence[Sequence[int]], batch: int = BATCH) -> np.ndarray:
        """The POSITIVE logit per row of token ids (``ids``/``encode_rows``)."""
        # Similar lengths together: padding is what a batch pays for its longest text.
        order = np.argsort([len(s) for s in seqs], kind="stable")
        result = np.zeros(len(seqs), dtype=np.float64)
        # One BLAS thread: the matrices are small, and on a busy machine OpenBLAS's threads
        # spin for each other (500 Weibo posts: 1.4 s with one thread, 15.6 s with the default
        # at load 6 on 2 cores).
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(seqs), batch):
                rows = order[start : start + batch]
                result[rows] = self.forward(pad([seqs[i] for i in rows]))
        return result

    @cached_property
    def taps(self) -> np.ndarray:
        """Every (width, offset) block of the convolutions side by side, (E, 9 F): a token's
        contribution to each filter at each offset is one row of embedding @ taps."""
        dim = self.embedding.shape[1]
        blocks = [
            conv[i * dim : (i + 1) * dim]
            for k, conv in zip(WIDTHS, self.convs, strict=True)
            for i in range(k)
        ]
        return np.ascontiguousarray(np.concatenate(blocks, axis=1))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network on padded ids (n, L): what neural_train.forward computes, in NumPy.

        The convolution is linear in the embeddings, so each distinct token of the batch is
        projected once (a token seen 40 times in 512 posts costs one row of the matrix
        product, not 40) and the windows are sums of gathered rows."""
        keep = (x > PAD)[..., None].astype(np.float32)
        n, length = x.shape
        distinct, inverse = np.unique(x, return_inverse=True)
        proj = self.embedding[distinct] @ self.taps  # (U, 9 F)
        proj[distinct == PAD] = 0.0  # pad positions add nothing, whatever the padding row
        at = inverse.reshape(n, length)
        filters = self.biases[0].shape[0]
        pooled = []
        block = 0
        for k, bias in zip(WIDTHS, self.biases, strict=True):
            acc = np.broadcast_to(bias, (n, length, filters)).copy()
            for i in range(k):
                # Window offset i: position t sees token t + i (zeros past the end).
                tap = proj[:, block * filters : (block + 1) * filters]
                acc[:, : length - i] += tap[at[:, i:]]
                block += 1
            # ReLU, then windows that start on padding set to 0: every pooled value is then
            # the max over real windows (all >= 0, and every row has one), as JAX's -1e9 gives.
            np.maximum(acc, 0.0, out=acc)
            acc *= keep
            pooled.append(acc.max(axis=1))
        z: np.ndarray = np.concatenate(pooled, axis=1) @ self.out + self.out_bias
        return z


__all__ = [
    "MAX_TOKENS",
    "TOKENIZERS",
    "UNKNOWN",
    "WIDTHS",
    "CharCNN",
    "Tokens",
    "encode",
    "pad",
    "sequence_tokens",
    "sequence_words",
]
