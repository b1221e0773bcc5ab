"""Train the CNN of sentiment/neural.py with JAX (the `[train]` extra), on one CPU thread with
fixed seeds, so a rerun gives the same weights.

The word network starts from skip-gram vectors (gensim word2vec, one worker, fixed seed) learnt
on the word sequences of every training text, labelled or not; the character network starts
from random vectors (skip-gram vectors did not help it: sentiment/MODEL.md, fourth round).

The fit runs in a child interpreter (``python -m sentiment.neural_train IN OUT``): jaxlib
aborts (free(): invalid pointer) in a process that loaded regopy's native library first, which
the hub (and so the `c360` CLI) does on import; the child also keeps XLA's flags its own.

Weighted logistic loss on the POSITIVE/NEGATIVE training rows (the polar head's rows and
weights), Adam, dropout on the pooled features, a fixed number of epochs (no early stopping:
the calibration slice stays unseen until the stacking fit).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.neural import PAD, TOKENIZERS, UNKNOWN, WIDTHS, CharCNN, Tokens, encode, pad

EMBED = 96
FILTERS = 128
EPOCHS = 3
# The word network overfits after one pass (calibration rows: 0.9407, 0.9378, 0.9329 after
# epochs 1-3; MODEL.md, fourth round).
WORD_EPOCHS = 1
# Skip-gram vectors for the word network's initial embedding.
SKIPGRAM = {"window": 5, "negative": 5, "min_count": 3, "epochs": 5}
BATCH = 128
LEARNING_RATE = 2e-3
DROPOUT = 0.5
CHECK_ROWS = 64  # rows scored by both JAX and NumPy after the fit (they must agree)
MIN_COUNT = 3  # rarer tokens share the unknown id
# Batches are drawn from chunks of this many batches sorted by length (less padding).
CHUNK = 50
# One XLA thread: the same reduction order on every run (bit-for-bit rebuilds).
_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def build_vocab(token_rows: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """PAD, UNKNOWN, then tokens seen at least MIN_COUNT times, most frequent first."""
    counts = Counter(t for row in token_rows for t in row)
    kept = sorted((t for t, c in counts.items() if c >= MIN_COUNT), key=lambda t: (-counts[t], t))
    return ("<pad>", "<unk>", *kept)


def _jax() -> Any:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_XLA_FLAGS}".strip()
    try:
        import jax
        import optax
    except ImportError as exc:  # the runtime install has no training framework
        raise RuntimeError(
            "training the sentiment network needs JAX: pip install 'c360[train]'"
        ) from exc
    jax.config.update("jax_platforms", "cpu")  # type: ignore[no-untyped-call]
    return jax, optax


def forward(params: dict[str, Any], x: Any, drop_key: Any = None) -> Any:
    """The network in JAX; CharCNN.forward is the same in NumPy."""
    import jax
    import jax.numpy as jnp

    mask = x > PAD
    h = params["emb"][x] * mask[..., None]
    length = x.shape[1]
    pooled = []
    for k in WIDTHS:
        padded = jnp.pad(h, ((0, 0), (0, k - 1), (0, 0)))
        windows = jnp.concatenate([padded[:, i : i + length] for i in range(k)], axis=-1)
        c = jax.nn.relu(windows @ params[f"conv{k}"] + params[f"bias{k}"])
        pooled.append(jnp.where(mask[..., None], c, -1e9).max(axis=1))
    z = jnp.concatenate(pooled, axis=-1)
    if drop_key is not None:
        keep = jax.random.bernoulli(drop_key, 1.0 - DROPOUT, z.shape)
        z = jnp.where(keep, z / (1.0 - DROPOUT), 0.0)
    return (z @ params["out"] + params["out_bias"])[:, 0]


def train_cnn(
    texts: Sequence[str],
    positive: np.ndarray,
    weights: np.ndarray,
    seed: int,
    tokens: Tokens = "chars",
    pretrain: Sequence[str] = (),
) -> CharCNN:
    """Fit the network on polar rows in a child interpreter; ``weights`` per row;
    ``pretrain``: the texts whose word sequences the skip-gram vectors are learnt on (word
    network only)."""
    with tempfile.TemporaryDirectory(prefix="c360-cnn-") as tmp:
        src, dst = Path(tmp) / "rows.json", Path(tmp) / "cnn.npz"
        rows = {
            "texts": list(texts),
            "positive": positive.astype(bool).tolist(),
            "weights": weights.astype(float).tolist(),
            "seed": seed,
            "tokens": tokens,
            "pretrain": list(pretrain),
        }
        src.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        # XLA's compiled programs cached across runs (a rebuild or a test's second run skips
        # the compiles, most of a small fit); the cache changes no result.
        cache = Path(tempfile.gettempdir()) / f"c360-xla-cache-{os.getuid()}"
        env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache)}
        done = subprocess.run(
            [sys.executable, "-m", "sentiment.neural_train", str(src), str(dst)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"training the sentiment network failed:\n{done.stderr[-2000:]}")
        with np.load(dst, allow_pickle=False) as f:
            cnn = CharCNN(
                tuple(json.loads(str(f["vocab"]))),
                f["emb"],
                tuple(f[f"conv{k}"] for k in WIDTHS),
                tuple(f[f"bias{k}"] for k in WIDTHS),
                f["out"],
                float(f["out_bias"]),
                tokens,
            )
            expected = f["check"]
    # The NumPy network must be the trained one: same logits as JAX on the first rows.
    got = cnn.logits(texts[: len(expected)])
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-3):
        worst = float(np.abs(got - expected).max())
        raise RuntimeError(f"NumPy CNN differs from the trained JAX network by {worst:.4g}")
    return cnn


def fit_in_process(
    texts: Sequence[str],
    positive: np.ndarray,
    weights: np.ndarray,
    seed: int,
    tokens: Tokens = "chars",
    pretrain: Sequence[str] = (),
    on_epoch: Callable[[int], None] = lambda _: None,
) -> CharCNN:
    """The fit itself (the child's work); ``weights`` are normalised to mean 1 here."""
    jax, optax = _jax()
    jnp = jax.numpy
    tokenize = TOKENIZERS[tokens]
    # The rows are among the pretraining texts (the word network's): each text is cut once.
    tokenized = {t: tokenize(t) for t in (*pretrain, *texts)}
    token_rows = [tokenized[t] for t in texts]
    vocab = build_vocab(token_rows)
    index = {t: i for i, t in enumerate(vocab)}
    seqs = [encode(row, index) for row in token_rows]
    lengths = np.array([len(s) for s in seqs])
    y = positive.astype(np.float32)
    w = (weights / weights.mean()).astype(np.float32)

    keys = jax.random.split(jax.random.PRNGKey(seed), len(WIDTHS) + 3)
    params: dict[str, Any] = {"emb": jax.random.normal(keys[0], (len(vocab), EMBED)) * 0.1}
    if tokens == "words":
        sentences = [tokenized[t] for t in pretrain]
        init = _skipgram_init(np.asarray(params["emb"]), vocab, sentences, seed)
        params["emb"] = jnp.asarray(init)
    for j, k in enumerate(WIDTHS):
        scale = math.sqrt(2.0 / (k * EMBED))
        params[f"conv{k}"] = jax.random.normal(keys[1 + j], (k * EMBED, FILTERS)) * scale
        params[f"bias{k}"] = jnp.zeros(FILTERS)
    params["out"] = jax.random.normal(keys[-2], (len(WIDTHS) * FILTERS, 1)) * 0.01
    params["out_bias"] = jnp.zeros(1)
    optimiser = optax.adam(LEARNING_RATE)
    state = optimiser.init(params)

    @jax.jit  # type: ignore[untyped-decorator]
    def step(p: Any, s: Any, x: Any, yy: Any, ww: Any, key: Any) -> tuple[Any, Any]:
        def loss(q: Any) -> Any:
            return (ww * optax.sigmoid_binary_cross_entropy(forward(q, x, key), yy)).mean()

        grads = jax.grad(loss)(p)
        updates, s = optimiser.update(grads, s, p)
        return optax.apply_updates(p, updates), s

    rng = np.random.RandomState(seed)
    drop = keys[-1]
    for epoch in range(WORD_EPOCHS if tokens == "words" else EPOCHS):
        perm = rng.permutation(len(seqs))
        batches: list[np.ndarray] = []
        for c in range(0, len(perm), BATCH * CHUNK):
            chunk = perm[c : c + BATCH * CHUNK]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH))
        for b in rng.permutation(len(batches)):
            # Every batch BATCH rows (a short one is filled with weight-0 rows) and a
            # power-of-two length: a handful of shapes, so XLA compiles a handful of times.
            rows = batches[b]
            fill = BATCH - len(rows)
            x = pad([seqs[i] for i in rows] + [[UNKNOWN]] * fill)
            yy = np.concatenate([y[rows], np.zeros(fill, np.float32)])
            ww = np.concatenate([w[rows], np.zeros(fill, np.float32)])
            drop, key = jax.random.split(drop)
            params, state = step(params, state, jnp.asarray(x), yy, ww, key)
        on_epoch(epoch + 1)

    def arr(name: str) -> np.ndarray:
        return np.asarray(params[name], dtype=np.float32)

    return CharCNN(
        vocab,
        arr("emb"),
        tuple(arr(f"conv{k}") for k in WIDTHS),
        tuple(arr(f"bias{k}") for k in WIDTHS),
        arr("out")[:, 0],
        float(arr("out_bias")[0]),
        tokens,
    )


def _skipgram_init(
    emb: np.ndarray, vocab: Sequence[str], sentences: Sequence[Sequence[str]], seed: int
) -> np.ndarray:
    """The random embedding with every vocabulary word that word2vec learnt (from the word
    sequences ``sentences``, with the network's seed: networks of an ensemble start apart)
    replaced by its skip-gram vector, rescaled to the random rows' spread (std 0.1 per
    coordinate)."""
    from gensim.models import Word2Vec

    w2v = Word2Vec(sentences=sentences, vector_size=EMBED, sg=1, workers=1, seed=seed, **SKIPGRAM)
    hit = [i for i, t in enumerate(vocab) if i > UNKNOWN and t in w2v.wv.key_to_index]
    out = emb.copy()
    if hit:
        vectors = np.stack([w2v.wv[vocab[i]] for i in hit])
        out[hit] = vectors / vectors.std() * 0.1
    return out


def _main(src: Path, dst: Path) -> None:
    rows = json.loads(src.read_text(encoding="utf-8"))
    cnn = fit_in_process(
        rows["texts"],
        np.array(rows["positive"], dtype=bool),
        np.array(rows["weights"], dtype=np.float64),
        int(rows["seed"]),
        rows["tokens"],
        rows["pretrain"],
    )
    jax, _ = _jax()
    index = {t: i for i, t in enumerate(cnn.vocab)}
    tokenize = TOKENIZERS[cnn.tokens]
    first = pad([encode(tokenize(t), index) for t in rows["texts"][:CHECK_ROWS]])
    params = {"emb": cnn.embedding, "out": cnn.out[:, None], "out_bias": np.array([cnn.out_bias])}
    params.update({f"conv{k}": c for k, c in zip(WIDTHS, cnn.convs, strict=True)})
    params.update({f"bias{k}": b for k, b in zip(WIDTHS, cnn.biases, strict=True)})
    check = np.asarray(forward(params, jax.numpy.asarray(first)), dtype=np.float64)
    arrays: dict[str, np.ndarray] = {
        "vocab": np.array(json.dumps(list(cnn.vocab), ensure_ascii=False)),
        "emb": cnn.embedding,
        "out": cnn.out,
        "out_bias": np.array(cnn.out_bias),
        "check": check,
    }
    arrays.update({f"conv{k}": c for k, c in zip(WIDTHS, cnn.convs, strict=True)})
    arrays.update({f"bias{k}": b for k, b in zip(WIDTHS, cnn.biases, strict=True)})
    np.savez(dst, **arrays)  # type: ignore[arg-type]


if __name__ == "__main__":
    _main(Path(sys.argv[1]), Path(sys.argv[2]))


__all__ = [
    "EMBED",
    "EPOCHS",
    "FILTERS",
    "SKIPGRAM",
    "WORD_EPOCHS",
    "build_vocab",
    "fit_in_process",
    "forward",
    "train_cnn",
]
