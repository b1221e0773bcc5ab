"""Brand alerts, pure: which buckets are unusual against a seasonal baseline, and why.

A bucket is judged only with enough history: the baseline is the ``baseline`` buckets before
it, counted from the first bucket that has any post (days before a brand was first seen are
"no data", not "quiet"), and at least ``min_baseline`` of them. The expected volume is the
baseline level times the bucket's seasonal factor (its day of week for days, hour of day for
hours), so a routine Monday peak is expected, not alerted. Two signals:

- VOLUME: ``z = (count - expected) / noise`` where noise is the spread of the baseline around
  its seasonal fit, at least ``sqrt(expected + (dispersion * expected)^2)``: Poisson noise plus
  the day-to-day swing social volume always has (20 %: a short baseline under-estimates the
  spread, and a busy Friday is not news); alerted at ``z >= threshold`` and
  ``count >= min_ratio * expected``.
- NEGATIVE_SHARE: the share of NEGATIVE among judged posts against the baseline's share, as a
  binomial z; alerted at ``z >= threshold`` and a lift of at least ``min_share_lift``.

Both need ``min_volume`` posts in the bucket. Explanations: n-gram terms over-represented in
the bucket's posts against the baseline's (:func:`top_terms`) and the emotion mix.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sentiment.trends import EMOTIONS, Bucket

VOLUME = "VOLUME"
NEGATIVE_SHARE = "NEGATIVE_SHARE"
SEASON = {"HOUR": 24, "DAY": 7, "WEEK": 1}


@dataclass(frozen=True)
class AlertConfig:
    threshold: float = 3.0
    baseline: int = 28  # buckets before each bucket
    min_baseline: int = 14  # buckets since the first post, at least
    min_volume: int = 20
    min_ratio: float = 1.5
    min_share_lift: float = 0.15
    dispersion: float = 0.2  # relative swing of volume expected on any day
    season: int = 7  # seasonal period in buckets (1: none)


@dataclass(frozen=True)
class Finding:
    bucket: Bucket
    kinds: tuple[str, ...]
    expected: float
    volume_z: float
    share: float | None
    baseline_share: float | None
    share_z: float | None
    baseline_buckets: int
    baseline_emotions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    findings: list[Finding]
    judged: int  # buckets with enough history
    insufficient: list[str]  # bucket starts without enough history: never alerted


def _judged(b: Bucket) -> int:
    return b.count - b.unsupported


def seasonal_fit(history: Sequence[int], season: int, offset: int) -> tuple[float, float]:
    """(expected value of the bucket ``offset`` slots after the history's first bucket, noise):
    level x seasonal factor, and the spread of the history around its own fit."""
    level = statistics.fmean(history)
    if level == 0:
        return 0.0, 0.0
    slots: dict[int, list[int]] = {}
    for j, x in enumerate(history):
        slots.setdefault(j % season, []).append(x)
    factor = {s: statistics.fmean(xs) / level for s, xs in slots.items()}
    fitted = [level * factor[j % season] for j in range(len(history))]
    residuals = [x - f for x, f in zip(history, fitted, strict=True)]
    expected = level * factor.get(offset % season, 1.0)
    return expected, statistics.pstdev(residuals)


def evaluate(buckets: Sequence[Bucket], first: int, config: AlertConfig) -> Evaluation:
    """Judge buckets[first:] (gap-filled, consecutive) against the buckets before each."""
    data_start = next((i for i, b in enumerate(buckets) if b.count > 0), len(buckets))
    findings: list[Finding] = []
    insufficient: list[str] = []
    judged = 0
    for i in range(first, len(buckets)):
        start = max(data_start, i - config.baseline)
        history = list(buckets[start:i])
        bucket = buckets[i]
        if len(history) < config.min_baseline:
            insufficient.append(bucket.start)
            continue
        judged += 1
        counts = [b.count for b in history]
        expected, spread = seasonal_fit(counts, config.season, i - start)
        noise = max(spread, math.sqrt(expected + (config.dispersion * expected) ** 2), 1.0)
        volume_z = (bucket.count - expected) / noise
        kinds: list[str] = []
        if (
            bucket.count >= config.min_volume
            and volume_z >= config.threshold
            and bucket.count >= config.min_ratio * expected
        ):
            kinds.append(VOLUME)
        judged_base = sum(_judged(b) for b in history)
        base_share = sum(b.negative for b in history) / judged_base if judged_base else None
        share = bucket.negative / _judged(bucket) if _judged(bucket) else None
        share_z = None
        if share is not None and base_share is not None:
            p0 = min(max(base_share, 0.02), 0.98)
            share_z = (share - p0) / math.sqrt(p0 * (1 - p0) / _judged(bucket))
            if (
                _judged(bucket) >= config.min_volume
                and share_z >= config.threshold
                and share - base_share >= config.min_share_lift
            ):
                kinds.append(NEGATIVE_SHARE)
        if kinds:
            total = sum(sum(b.emotions) for b in history)
            emotions = {
                e: (sum(b.emotions[k] for b in history) / total if total else 0.0)
                for k, e in enumerate(EMOTIONS)
            }
            findings.append(
                Finding(
                    bucket,
                    tuple(kinds),
                    expected,
                    volume_z,
                    share,
                    base_share,
                    share_z,
                    len(history),
                    emotions,
                )
            )
    return Evaluation(findings, judged, insufficient)


# Runs of Han characters and of latin letters/digits: the units n-grams are taken from.
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset("的了是我在有和就不也都很吗吧啊呢这那你他她们个")


def grams(text: str, sizes: Iterable[int] = (2, 3, 4)) -> set[str]:
    """Distinct character n-grams of the Han runs and the lower-cased latin words."""
    out: set[str] = set()
    for run in _HAN.findall(text):
        for n in sizes:
            for k in range(len(run) - n + 1):
                g = run[k : k + n]
                if g[0] not in _STOP and g[-1] not in _STOP:
                    out.add(g)
    out.update(_WORD.findall(text.lower()))
    return out


@dataclass(frozen=True)
class Term:
    term: str
    count: int  # posts of the bucket containing it
    share: float  # of the bucket's posts
    baseline_share: float
    lift: float


def top_terms(spike: Sequence[str], baseline: Sequence[str], limit: int = 10) -> list[Term]:
    """Terms (n-grams) over-represented in ``spike`` posts against ``baseline`` posts, ranked
    by posts x log(lift); a term inside a longer term found in nearly as many posts is left
    out (``账户冻结`` rather than ``账户`` and ``冻结``)."""
    if not spike:
        return []
    df_spike: Counter[str] = Counter(g for t in spike for g in grams(t))
    df_base: Counter[str] = Counter(g for t in baseline for g in grams(t))
    n_s, n_b = len(spike), len(baseline)
    floor_count = max(2, math.ceil(0.05 * n_s))
    scored: dict[str, Term] = {}
    for g, c in df_spike.items():
        if c < floor_count:
            continue
        p_s, p_b = (c + 0.5) / (n_s + 1), (df_base[g] + 0.5) / (n_b + 1)
        lift = p_s / p_b
        if lift > 1.5:
            scored[g] = Term(g, c, c / n_s, df_base[g] / n_b if n_b else 0.0, lift)
    kept = [
        t
        for t in scored.values()
        if not any(
            t.term in other and other != t.term and scored[other].count >= 0.8 * t.count
            for other in scored
        )
    ]
    kept.sort(key=lambda t: (-t.count * math.log(t.lift), t.term))
    # Overlapping fragments of one phrase (银行系统 / 商银行系) say the same thing: keep the
    # better ranked one.
    chosen: list[Term] = []
    for term in kept:
        if not any(_overlap(term.term, c.term) for c in chosen):
            chosen.append(term)
        if len(chosen) == limit:
            break
    return chosen


def _overlap(a: str, b: str) -> bool:
    """Whether a and b share two consecutive characters (or one is the other's word)."""
    return any(a[k : k + 2] in b for k in range(len(a) - 1)) or a in b or b in a


__all__ = [
    "NEGATIVE_SHARE",
    "SEASON",
    "VOLUME",
    "AlertConfig",
    "Evaluation",
    "Finding",
    "Term",
    "evaluate",
    "grams",
    "seasonal_fit",
    "top_terms",
]
