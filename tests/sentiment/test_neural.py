"""The CNN's pure parts: tokens (characters and words), ids, padding, and the NumPy forward
pass."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from sentiment.linear import (
    BUNDLED,
    FORMAT,
    FORMAT_ONE_NETWORK,
    PolarHead,
    as_stored,
    load,
    network_logits,
    save,
)
from sentiment.neural import (
    MAX_TOKENS,
    PAD,
    UNKNOWN,
    WIDTHS,
    CharCNN,
    encode,
    pad,
    sequence_tokens,
    sequence_words,
)
from sentiment.normalize import BANK, SERVICE


def tiny_cnn(seed: int = 3, dim: int = 4, filters: int = 5) -> CharCNN:
    rng = np.random.default_rng(seed)
    vocab = ("<pad>", "<unk>", "好", "差", "[哈哈]", "太")
    return CharCNN(
        vocab,
        rng.normal(size=(len(vocab), dim)).astype(np.float32),
        tuple(rng.normal(size=(k * dim, filters)).astype(np.float32) for k in WIDTHS),
        tuple(rng.normal(size=filters).astype(np.float32) for _ in WIDTHS),
        rng.normal(size=len(WIDTHS) * filters).astype(np.float32),
        0.25,
    )


def test_tokens_keep_emoticons_whole_and_drop_spaces() -> None:
    assert sequence_tokens("太好了 [哈哈]！") == ["太", "好", "了", "[哈哈]", "!"]
    assert len(sequence_tokens("好" * 1000 + "差" * 1000)) <= MAX_TOKENS


def test_masked_bank_nouns_are_padding_never_features() -> None:
    toks = sequence_tokens("招商银行的信用卡太好用了")
    assert BANK in toks and SERVICE in toks
    ids = encode(toks, {"太": 5, "好": 2})
    assert [i for t, i in zip(toks, ids, strict=True) if t in (BANK, SERVICE)] == [PAD, PAD]
    assert encode([], {}) == [UNKNOWN] and encode([BANK], {}) == [UNKNOWN]


def test_words_keep_emoticons_and_masks_as_tokens_of_their_own() -> None:
    words = sequence_words("招行的客服太差了[怒]，再也 不来了")
    assert words[:3] == [BANK, "的", SERVICE] and "[怒]" in words and " " not in words
    assert "太差" in words  # jieba words, not characters
    assert len(sequence_words("好 " * 1000)) <= MAX_TOKENS
    # A word network reads the same text through words: an unknown word is one unknown id.
    cnn = replace(tiny_cnn(), tokens="words")
    assert cnn.ids(["太差了"]) == [[UNKNOWN, UNKNOWN]]
    assert tiny_cnn().ids(["太差"]) == [[5, 3]]  # the character network: one id a character


def test_padding_is_a_power_of_two_and_zero() -> None:
    x = pad([[2, 3], [4] * 20])
    assert x.shape == (2, 32) and x[0, 2:].sum() == 0 and x[1, :20].tolist() == [4] * 20


def test_a_text_scores_the_same_alone_and_in_any_batch() -> None:
    cnn = tiny_cnn()
    texts = ["太好了[哈哈]", "差", "太差太差了，真的很差" * 3, "好"]
    together = cnn.logits(texts)
    alone = np.array([cnn.logits([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    # Different texts, different logits: the network reads its input.
    assert len({round(v, 4) for v in together}) == len(texts)


def test_forward_is_max_over_relu_windows() -> None:
    cnn = tiny_cnn()
    x = np.array([[2, 3, 4, 0, 0, 0, 0, 0]])
    h = cnn.embedding[x[0, :3]]
    pooled = []
    for k, conv, bias in zip(WIDTHS, cnn.convs, cnn.biases, strict=True):
        padded = np.vstack([h, np.zeros((k - 1, h.shape[1]), np.float32)])
        windows = np.stack([padded[t : t + k].ravel() for t in range(3)])
        pooled.append(np.maximum(windows @ conv + bias, 0).max(axis=0))
    expected = np.concatenate(pooled) @ cnn.out + cnn.out_bias
    assert np.allclose(cnn.forward(x)[0], expected, atol=1e-5)


def _with_networks(path: Path, networks: tuple[CharCNN, ...]) -> None:
    """The bundled model's heads with ``networks`` stacked (weights as a file keeps them)."""
    m = load(BUNDLED)
    polar = PolarHead(m.polar.ratio, m.polar.head, tuple(map(as_stored, networks)), (1.0, 0.5, 0.0))
    save(path, m.idf, m.sentiment, m.emotion, polar, m.meta)


def test_networks_round_trip_and_one_network_files_still_read(tmp_path: Path) -> None:
    """Format 4 keeps every network and its order; a format-3 file (one network under
    "cnn_", written before ensembles) loads as an ensemble of one with the same scores."""
    nets = (tiny_cnn(3), replace(tiny_cnn(4), tokens="words"), tiny_cnn(5))
    _with_networks(tmp_path / "four.npz", nets)
    four = load(tmp_path / "four.npz")
    assert four.meta["format"] == FORMAT and len(four.polar.networks) == 3
    assert [n.tokens for n in four.polar.networks] == ["chars", "words", "chars"]
    texts = ["太好了", "太差", "好"]
    want = np.mean([as_stored(n).logits(texts) for n in nets], axis=0)
    assert np.allclose(network_logits(four.polar.networks, texts), want, atol=1e-6)

    _with_networks(tmp_path / "one.npz", nets[:1])
    with zipfile.ZipFile(tmp_path / "one.npz") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members.pop("meta.json"))
    (spec,) = meta.pop("networks")
    meta.update(format=FORMAT_ONE_NETWORK, cnn_tokens=spec["tokens"], cnn_out_bias=spec["out_bias"])
    members = {n.replace("net0_", "cnn_"): b for n, b in members.items()}
    members["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "three.npz", "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    three, one = load(tmp_path / "three.npz"), load(tmp_path / "one.npz")
    assert len(three.polar.networks) == 1 and three.polar.stack == one.polar.stack
    assert np.allclose(three.predict(texts).probabilities, one.predict(texts).probabilities)
