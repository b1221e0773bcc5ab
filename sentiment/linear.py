"""The default scorer's model: two linear heads over hashed n-grams, in one small zip file.

The file is a NumPy ``.npz`` written with fixed zip timestamps and sorted members, so the same
training run gives the same bytes. Coefficients are stored as float16 (half the size, no
measurable change in accuracy) and widened to float32 when loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from sentiment.features import vectorizer, weigh
from sentiment.neural import TOKENIZERS, WIDTHS, CharCNN
from sentiment.normalize import NORMALIZED_CACHE
from sentiment.polar import binary_logits, presence, scale, split_polar

CLASSES = ("NEGATIVE", "NEUTRAL", "POSITIVE")
EMOTIONS = ("happy", "angry", "sad", "fear", "surprise", "neutral")
# Emotions a label may carry: an emotion head that disagrees with the sentiment head is a
# weaker signal, so the emotion is the likeliest among those consistent with the label.
ALLOWED_EMOTIONS = {
    "POSITIVE": ("happy", "surprise"),
    "NEUTRAL": ("neutral", "surprise"),
    "NEGATIVE": ("angry", "sad", "fear", "surprise"),
}
# 2: a polar head (NB-SVM over character n-grams and words) shares out POSITIVE / NEGATIVE.
# 3: the polar head stacked with one CNN over words or characters (sentiment/neural.py); read
# only (models trained before ensembles).
# 4: the polar head stacked with the mean logit of one or more CNNs (`train --network`); a
# model without networks is still written (and read) as format 2.
FORMAT = 4
FORMAT_LINEAR = 2
FORMAT_ONE_NETWORK = 3
READABLE = (FORMAT_LINEAR, FORMAT_ONE_NETWORK, FORMAT)
POLAR = ("NEGATIVE", "POSITIVE")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Texts scored together: each tokeniser reads the chunk's normalised forms from
# normalize's cache, which holds more than a chunk.
PREDICT_CHUNK = NORMALIZED_CACHE // 4
# Header keys that describe the file's members, written by ``save`` from the model itself.
_STRUCTURE = frozenset(("networks", "polar_stack", "cnn_tokens", "cnn_out_bias"))
BUNDLED = Path(__file__).parent / "models" / "c360-zh-social.npz"


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class Head:
    """One linear classifier: logits = X @ coef.T + intercept, scaled by 1/temperature."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, features) float32
    intercept: np.ndarray  # (classes,) float32
    temperature: float

    @cached_property
    def weights(self) -> np.ndarray:
        """coef transposed, contiguous: a sparse row times a transposed view would copy the
        whole matrix on every call (tens of ms for one text)."""
        return np.ascontiguousarray(self.coef.T)

    def logits(self, x: Any) -> np.ndarray:
        out: np.ndarray = np.asarray(x @ self.weights, dtype=np.float64) + self.intercept
        return out

    def proba(self, x: Any) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)


@dataclass(frozen=True, eq=False)
class PolarHead:
    """P(POSITIVE | not NEUTRAL): one logistic regression over NB-scaled presence features
    (sentiment/polar.py); ``head.coef`` has one row, the POSITIVE logit."""

    ratio: np.ndarray  # (features,) float32 naive-Bayes log-count ratios
    head: Head
    # With networks: P(POSITIVE) = sigmoid(a * NB-SVM logit + b * mean network logit + c),
    # (a, b, c) a logistic regression fit on the calibration slice (stacking replaces the
    # temperature).
    networks: tuple[CharCNN, ...] = ()
    stack: tuple[float, float, float] | None = None

    def positive(self, presence_x: sparse.csr_matrix, texts: Sequence[str]) -> np.ndarray:
        nb = self.head.logits(scale(presence_x, self.ratio))[:, 0]
        if not self.networks or self.stack is None:
            out: np.ndarray = softmax(binary_logits(nb) / self.head.temperature)[:, 1]
            return out
        a, b, c = self.stack
        z = a * nb + b * network_logits(self.networks, texts) + c
        stacked: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return stacked


def network_logits(networks: Sequence[CharCNN], texts: Sequence[str]) -> np.ndarray:
    """The mean POSITIVE logit of the networks; each text is tokenised once per kind of
    token (networks of a kind share their tokeniser and, trained on the same rows, their
    vocabulary)."""
    tokens: dict[str, list[list[str]]] = {}
    encoded: dict[str, tuple[tuple[str, ...], list[list[int]]]] = {}
    total = np.zeros(len(texts), dtype=np.float64)
    for net in networks:
        if net.tokens not in tokens:
            tokenize = TOKENIZERS[net.tokens]
            tokens[net.tokens] = [tokenize(t) for t in texts]
        vocab, ids = encoded.get(net.tokens, ((), []))
        if vocab != net.vocab:
            ids = net.encode_rows(tokens[net.tokens])
            encoded[net.tokens] = (net.vocab, ids)
        total += net.logits_of(ids)
    mean: np.ndarray = total / len(networks)
    return mean


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray  # (n, 3) in CLASSES order
    labels: list[str]
    emotions: list[str]


@dataclass(frozen=True)
class LinearModel:
    idf: np.ndarray
    sentiment: Head
    emotion: Head
    polar: PolarHead
    meta: dict[str, Any]
    digest: str

    @property
    def version(self) -> str:
        return f"c360-zh-{self.digest[:8]}"

    def predict(self, texts: Sequence[str]) -> Prediction:
        if len(texts) <= PREDICT_CHUNK:
            return self._predict(texts)
        parts = [
            self._predict(texts[i : i + PREDICT_CHUNK]) for i in range(0, len(texts), PREDICT_CHUNK)
        ]
        return Prediction(
            np.concatenate([p.probabilities for p in parts]),
            [label for p in parts for label in p.labels],
            [emotion for p in parts for emotion in p.emotions],
        )

    def _predict(self, texts: Sequence[str]) -> Prediction:
        counts = vectorizer().transform(texts)
        x = weigh(counts, self.idf)
        probs = split_polar(
            self.sentiment.proba(x), self.polar.positive(presence(counts, texts), texts), CLASSES
        )
        labels = [CLASSES[i] for i in probs.argmax(axis=1)]
        emo = self.emotion.proba(x)
        emotions = []
        for label, row in zip(labels, emo, strict=True):
            allowed = ALLOWED_EMOTIONS[label]
            emotions.append(max(allowed, key=lambda e: row[EMOTIONS.index(e)]))
        return Prediction(probs, labels, emotions)


def _array_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def save(
    path: Path,
    idf: np.ndarray,
    sentiment: Head,
    emotion: Head,
    polar: PolarHead,
    meta: dict[str, Any],
) -> str:
    """Write the model; returns the sha256 of the file (the model id is its first 8 hex)."""
    members = {
        "polar_ratio.npy": _array_bytes(polar.ratio.astype(np.float16)),
        "polar_coef.npy": _array_bytes(polar.head.coef.astype(np.float16)),
        "polar_intercept.npy": _array_bytes(polar.head.intercept.astype(np.float32)),
        "idf.npy": _array_bytes(idf.astype(np.float16)),
        "sentiment_coef.npy": _array_bytes(sentiment.coef.astype(np.float16)),
        "sentiment_intercept.npy": _array_bytes(sentiment.intercept.astype(np.float32)),
        "emotion_coef.npy": _array_bytes(emotion.coef.astype(np.float16)),
        "emotion_intercept.npy": _array_bytes(emotion.intercept.astype(np.float32)),
    }
    # The file's own structure wins over ``meta`` (a loaded model's meta carries its header).
    header = {
        **{k: v for k, v in meta.items() if k not in _STRUCTURE},
        "format": FORMAT if polar.networks else FORMAT_LINEAR,
        "classes": list(sentiment.classes),
        "emotions": list(emotion.classes),
        "sentiment_temperature": sentiment.temperature,
        "emotion_temperature": emotion.temperature,
        "polar_temperature": polar.head.temperature,
    }
    if polar.networks and polar.stack is not None:
        for i, net in enumerate(polar.networks):
            members.update(_cnn_members(net, f"net{i}_"))
        header["polar_stack"] = list(polar.stack)
        header["networks"] = [{"tokens": n.tokens, "out_bias": n.out_bias} for n in polar.networks]
    members["meta.json"] = json.dumps(header, ensure_ascii=False, sort_keys=True, indent=1).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, members[name])
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cnn_members(cnn: CharCNN, prefix: str) -> dict[str, bytes]:
    out = {
        f"{prefix}vocab.json": json.dumps(list(cnn.vocab), ensure_ascii=False).encode(),
        f"{prefix}embedding.npy": _array_bytes(cnn.embedding.astype(np.float16)),
        f"{prefix}out.npy": _array_bytes(cnn.out.astype(np.float16)),
    }
    for k, conv, bias in zip(WIDTHS, cnn.convs, cnn.biases, strict=True):
        out[f"{prefix}conv{k}.npy"] = _array_bytes(conv.astype(np.float16))
        out[f"{prefix}bias{k}.npy"] = _array_bytes(bias.astype(np.float16))
    return out


def as_stored(cnn: CharCNN) -> CharCNN:
    """The network as a saved file gives it back (float16 weights): what the stacking is fit on."""

    def f16(a: np.ndarray) -> np.ndarray:
        return a.astype(np.float16).astype(np.float32)

    return CharCNN(
        cnn.vocab,
        f16(cnn.embedding),
        tuple(f16(c) for c in cnn.convs),
        tuple(f16(b) for b in cnn.biases),
        f16(cnn.out),
        cnn.out_bias,
        cnn.tokens,
    )


def load(path: Path = BUNDLED) -> LinearModel:
    if not path.is_file():
        raise FileNotFoundError(
            f"sentiment model {path} not found; build it with `c360 sentiment train` or set "
            "C360_SENTIMENT_MODEL=default"
        )
    raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        meta = json.loads(zf.read("meta.json"))
        if meta.get("format") not in READABLE:
            raise ValueError(f"{path} is model format {meta.get('format')}, expected {FORMAT}")

        def arr(name: str) -> np.ndarray:
            loaded: np.ndarray = np.load(io.BytesIO(zf.read(f"{name}.npy")), allow_pickle=False)
            return loaded

        sentiment = Head(
            tuple(meta["classes"]),
            arr("sentiment_coef").astype(np.float32),
            arr("sentiment_intercept").astype(np.float32),
            float(meta["sentiment_temperature"]),
        )
        emotion = Head(
            tuple(meta["emotions"]),
            arr("emotion_coef").astype(np.float32),
            arr("emotion_intercept").astype(np.float32),
            float(meta["emotion_temperature"]),
        )
        polar = PolarHead(
            arr("polar_ratio").astype(np.float32),
            Head(
                POLAR,
                arr("polar_coef").astype(np.float32),
                arr("polar_intercept").astype(np.float32),
                float(meta["polar_temperature"]),
            ),
        )
        # Format 3 kept one network under "cnn_"; format 4 lists them as "net0_", "net1_"...
        listed = meta.get("networks")
        if listed is None and "cnn_vocab.json" in zf.namelist():
            listed = [{"tokens": meta.get("cnn_tokens", "chars"), "out_bias": meta["cnn_out_bias"]}]
            prefixes = ["cnn_"]
        else:
            prefixes = [f"net{i}_" for i in range(len(listed or []))]

        def network(prefix: str, spec: dict[str, Any]) -> CharCNN:
            return CharCNN(
                tuple(json.loads(zf.read(f"{prefix}vocab.json"))),
                arr(f"{prefix}embedding").astype(np.float32),
                tuple(arr(f"{prefix}conv{k}").astype(np.float32) for k in WIDTHS),
                tuple(arr(f"{prefix}bias{k}").astype(np.float32) for k in WIDTHS),
                arr(f"{prefix}out").astype(np.float32),
                float(spec["out_bias"]),
                spec["tokens"],
            )

        if listed:
            networks = tuple(network(p, s) for p, s in zip(prefixes, listed, strict=True))
            a, b, c = (float(v) for v in meta["polar_stack"])
            polar = PolarHead(polar.ratio, polar.head, networks, (a, b, c))
        idf = arr("idf").astype(np.float32)
    return LinearModel(idf, sentiment, emotion, polar, meta, hashlib.sha256(raw).hexdigest())


__all__ = [
    "ALLOWED_EMOTIONS",
    "BUNDLED",
    "CLASSES",
    "EMOTIONS",
    "POLAR",
    "Head",
    "LinearModel",
    "PolarHead",
    "Prediction",
    "as_stored",
    "load",
    "network_logits",
    "save",
    "softmax",
]
