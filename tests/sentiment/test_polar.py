"""The polar head's pure parts: word tokens, the naive-Bayes ratio, the polar-mass split."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from sentiment.linear import CLASSES
from sentiment.normalize import BANK, SERVICE
from sentiment.polar import fit_ratio, scale, split_polar, word_tokens


def test_word_tokens_are_words_bigrams_and_emoticons_never_masked_nouns() -> None:
    toks = word_tokens("招商银行的信用卡服务太差了[怒]")
    assert "w:太差" in toks or "w:差" in toks
    assert any(t.startswith("b:") for t in toks)
    assert "[怒]" in toks
    # Bank names and banking nouns are masked and end a segment: never a word or in a bigram.
    assert not any(BANK in t or SERVICE in t for t in toks)
    assert not any("银行" in t or "信用卡" in t for t in toks)


def test_ratio_points_to_the_class_a_feature_comes_with() -> None:
    # columns: 0 only in positive rows, 1 only in negative rows, 2 in both
    x = sparse.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]], np.float32))
    positive = np.array([True, True, False, False])
    ratio = fit_ratio(x, positive, np.ones(4))
    assert ratio[0] > 0 > ratio[1] and abs(ratio[2]) < 1e-6
    # A row's weight counts as that many copies of it.
    weighted = fit_ratio(x, positive, np.array([2.0, 1.0, 1.0, 1.0]))
    copied = fit_ratio(sparse.vstack([x[:1], x]).tocsr(), np.r_[True, positive], np.ones(5))
    assert np.allclose(weighted, copied)
    scaled = scale(x, ratio)
    assert np.allclose(np.sqrt(scaled.multiply(scaled).sum(axis=1)), 1.0)


def test_split_keeps_neutral_and_shares_the_polar_mass() -> None:
    probs = np.array([[0.5, 0.2, 0.3], [0.1, 0.8, 0.1]])  # CLASSES order: NEG, NEU, POS
    out = split_polar(probs, np.array([0.9, 0.25]), CLASSES)
    assert np.allclose(out[:, 1], probs[:, 1])
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[0], [0.08, 0.2, 0.72]) and np.allclose(out[1], [0.15, 0.8, 0.05])
