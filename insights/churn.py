"""Churn model: features from a customer's history as of a moment, labels from what happened
next, a scikit-learn logistic regression, and per-customer explanations (each feature's share
of the score). Pure apart from scikit-learn (imported only to fit and measure): histories in,
numbers out.

Churned: every account the customer owns is closed; the moment is the latest ``closedAt``.
A time split (``split``) takes features as of one moment and labels from the HORIZON after it,
so the model is always tested on a later window than it learnt from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from insights.history import iso, later_flow, signed
from insights.recommend import is_open
from shared.records import customer_initiated
from shared.times import parse_time

HORIZON_DAYS = 90
# Training stacks SNAPSHOTS moments STEP_DAYS apart (more churners to learn from, each seen
# at several lead times); the latest one's horizon ends where the test window starts.
SNAPSHOTS = 6
STEP_DAYS = 30
# How far back a history must reach for features as of the earliest training snapshot.
HISTORY_DAYS = 2 * HORIZON_DAYS + (SNAPSHOTS - 1) * STEP_DAYS + 200
FEATURES = (
    "tenure_years",
    "age",
    "products",
    "tx_trend",
    "balance_trend",
    "complaints_180d",
    "unresolved_complaints",
    "satisfaction",
    "low_satisfaction",
    "household",
    "related",
    "tx_log",
    "idle_days",
    "large_outflow",
)
# Features whose explanation quotes an amount (hidden unless amounts are revealed).
AMOUNT_FEATURES = frozenset(("balance_trend", "large_outflow"))
# Features whose explanation quotes the age ("age 52", from the birth year): a reason the
# caller may see only where the birth date shows (resolvers.churn_model).
BIRTH_DATE_FEATURES = frozenset(("age",))
LARGE_OUTFLOW = -0.2  # balance_trend below this: a fifth of the assets left in 90 days
MODEL_NAME = "logistic-regression"


def _time(value: Any) -> datetime | None:
    # A date alone (an import keeps "2020-01-01" as given) is its midnight UTC, as campaigns
    # read it: a naive datetime compared with an aware one raised TypeError.
    return parse_time(str(value)) if value else None


def _stored(value: Any) -> Any:
    """A time in the stored form (``YYYY-MM-DDTHH:MM:SSZ``), so that the string comparisons
    below order instants: a date alone becomes its midnight UTC; garbled text stays as is."""
    if not isinstance(value, str) or (len(value) == 20 and value.endswith("Z")):
        return value
    parsed = parse_time(value)
    return iso(parsed.astimezone(UTC)) if parsed is not None else value


def with_stored_times(history: Mapping[str, Any]) -> dict[str, Any]:
    """The history with every time the features read in the stored form (a copy)."""
    customer = history.get("customer") or {}

    def times(rows: Any, *keys: str) -> list[dict[str, Any]]:
        return [{**r, **{k: _stored(r.get(k)) for k in keys if k in r}} for r in rows or []]

    return {
        **history,
        "customer": {**customer, "createdAt": _stored(customer.get("createdAt"))},
        "accounts": times(history.get("accounts"), "openedAt", "closedAt"),
        "transactions": times(history.get("transactions"), "time"),
        "interactions": times(history.get("interactions"), "time"),
    }


def churned_at(history: Mapping[str, Any]) -> datetime | None:
    accounts = history.get("accounts") or []
    if not accounts or any(is_open(a) for a in accounts):
        return None
    closed = [t for a in accounts if (t := _time(a.get("closedAt"))) is not None]
    return max(closed) if closed else None


def in_population(history: Mapping[str, Any], at: datetime) -> bool:
    """A customer at ``at``: joined a month before, has an account, has not left yet."""
    created = _time((history.get("customer") or {}).get("createdAt"))
    if created is None or created > at - timedelta(days=30):
        return False
    opened = [_time(a.get("openedAt")) for a in history.get("accounts") or []]
    if not any(o is not None and o < at for o in opened):
        return False
    left = churned_at(history)
    return left is None or left > at


def features(history: Mapping[str, Any], at: datetime) -> dict[str, float]:
    """What was known about the customer at ``at`` (nothing later is looked at)."""
    customer = history.get("customer") or {}
    at_iso = iso(at)
    d90, d180, d365 = (iso(at - timedelta(days=d)) for d in (90, 180, 365))
    accounts = [
        a
        for a in history.get("accounts") or []
        if str(a.get("openedAt") or "") < at_iso
        and not (a.get("closedAt") and str(a["closedAt"]) <= at_iso)
    ]
    txs = [t for t in history.get("transactions") or [] if str(t.get("time") or "") < at_iso]
    recent = [t for t in txs if t["time"] >= d90]
    previous = [t for t in txs if d180 <= t["time"] < d90]
    last_tx = max((t["time"] for t in txs), default=None)
    last = _time(last_tx)
    # Assets then: today's balances less what flowed in since (closed accounts hold 0 now).
    later = later_flow(history, at_iso)
    balances = sum(
        float(a.get("balance") or 0)
        for a in accounts
        if str(a.get("type") or "").upper() not in ("LOAN", "CREDIT_CARD")
    )
    assets_then = max(0.0, balances - later)
    flow = sum(signed(t) for t in recent)
    ixs = [i for i in history.get("interactions") or [] if str(i.get("time") or "") < at_iso]
    complaints = [i for i in ixs if str(i.get("kind") or "").upper() == "COMPLAINT"]
    scores = [int(i["satisfaction"]) for i in ixs if i.get("satisfaction") and i["time"] >= d365]
    created = _time(customer.get("createdAt")) or at
    born = str(customer.get("birthDate") or "")[:4]
    # Silence is the customer's: the bank's own contacts (a campaign's SMS, a care call) do
    # not break it (shared.records.BANK_INITIATED_KINDS).
    own = (str(i.get("time") or "") for i in ixs if customer_initiated(i))
    last_any = _time(max([last_tx or "", *own]))
    trend = max(-1.0, min(1.0, flow / (assets_then + abs(min(flow, 0.0)) + 1.0)))
    return {
        "tenure_years": max(0.0, (at - created).days / 365.25),
        "age": float(at.year - int(born)) if born.isdigit() else 40.0,
        "products": float(len({a.get("product") for a in accounts})),
        "tx_last_90d": float(len(recent)),
        "tx_trend": (len(recent) - len(previous)) / (len(previous) + 1),
        "days_since_tx": float(min(365, (at - last).days)) if last else 365.0,
        "balance_trend": trend,
        "complaints_180d": float(sum(1 for i in complaints if i["time"] >= d180)),
        "unresolved_complaints": float(
            sum(1 for i in complaints if i["time"] >= d365 and i.get("resolved") is False)
        ),
        "satisfaction": float(np.mean(scores)) if scores else 3.5,
        "low_satisfaction": float(sum(1 for s in scores if s <= 2)),
        "household": 1.0 if history.get("householdId") else 0.0,
        "related": float(history.get("related") or 0),
        # The rule score's signals in forms a linear model can use: counts on a log scale,
        # silence across transactions and interactions, and a large outflow as a flag.
        "tx_log": float(np.log1p(len(recent))),
        "idle_days": float(min(365, (at - last_any).days)) if last_any else 365.0,
        "large_outflow": 1.0 if trend < LARGE_OUTFLOW else 0.0,
    }


def label(history: Mapping[str, Any], at: datetime, horizon_days: int = HORIZON_DAYS) -> int:
    left = churned_at(history)
    return int(left is not None and at < left <= at + timedelta(days=horizon_days))


@dataclass(frozen=True)
class Sample:
    customer_id: str
    features: dict[str, float]
    label: int
    rule_score: float


class NothingToLearn(ValueError):
    """The training window has no churner, or only churners."""


class UnreadableHistory(ValueError):
    """A customer's stored history holds a value the features cannot read (a balance that
    is not a number, a transaction without a time): names the customer."""


# What reading a stored value that is not what it should be raises (a time that is a number
# compared with one that is text, a satisfaction that is no integer, a row without a time).
READ_ERRORS = (TypeError, ValueError, KeyError)


def unreadable(customer_id: str, exc: Exception) -> UnreadableHistory:
    """The one sentence naming the customer whose history could not be read, not a
    traceback from deep in the features (``c360 churn``, care tasks)."""
    return UnreadableHistory(f"customer {customer_id}'s history cannot be read ({exc!r})")


def samples(
    histories: Sequence[Mapping[str, Any]],
    at: datetime,
    rule: Callable[[Mapping[str, Any], datetime], float],
) -> list[Sample]:
    out = []
    for h in histories:
        cid = str((h.get("customer") or {}).get("id"))
        try:
            if in_population(h, at):
                out.append(Sample(cid, features(h, at), label(h, at), rule(h, at)))
        except READ_ERRORS as exc:
            raise unreadable(cid, exc) from exc
    return out


def training_samples(
    histories: Sequence[Mapping[str, Any]],
    until: datetime,
    rule: Callable[[Mapping[str, Any], datetime], float],
    horizon_days: int = HORIZON_DAYS,
) -> list[Sample]:
    """Samples at SNAPSHOTS moments whose horizons all end by ``until`` (nothing later)."""
    latest = until - timedelta(days=horizon_days)
    out: list[Sample] = []
    for k in range(SNAPSHOTS):
        out.extend(samples(histories, latest - timedelta(days=k * STEP_DAYS), rule))
    return out


def _matrix(rows: Sequence[Sample]) -> np.ndarray:
    return np.array([[s.features[f] for f in FEATURES] for s in rows], dtype=float)


@dataclass(frozen=True)
class ChurnModel:
    """A fitted logistic regression on standardised features, as plain numbers (JSON)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    trained_at: str
    as_of: str
    metrics: Mapping[str, Any]
    # The score above which a customer is in the top decile of the training samples: care
    # tasks flag those (the score is a probability of leaving within the horizon).
    alert_threshold: float = 0.5
    base_rate: float = 0.0  # share of churners among the training samples

    def to_json(self) -> dict[str, Any]:
        return {
            "model": MODEL_NAME,
            "features": list(FEATURES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "trainedAt": self.trained_at,
            "asOf": self.as_of,
            "metrics": dict(self.metrics),
            "alertThreshold": self.alert_threshold,
            "baseRate": self.base_rate,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChurnModel:
        if list(data.get("features") or []) != list(FEATURES):
            raise ValueError("the churn model was trained on other features; run c360 churn train")
        return cls(
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            trained_at=str(data.get("trainedAt") or ""),
            as_of=str(data.get("asOf") or ""),
            metrics=dict(data.get("metrics") or {}),
            alert_threshold=float(data.get("alertThreshold", 0.5)),
            base_rate=float(data.get("baseRate", 0.0)),
        )

    @property
    def name(self) -> str:
        return f"{MODEL_NAME} (trained {self.trained_at[:10]})"

    def contributions(self, x: Mapping[str, float]) -> dict[str, float]:
        return {
            f: c * (x[f] - m) / s
            for f, m, s, c in zip(FEATURES, self.mean, self.scale, self.coef, strict=True)
        }

    def score(self, x: Mapping[str, float]) -> float:
        z = self.intercept + sum(self.contributions(x).values())
        return float(1 / (1 + np.exp(-z)))


def fit(rows: Sequence[Sample], trained_at: datetime, as_of: datetime) -> ChurnModel:
    if len({s.label for s in rows}) < 2:
        raise NothingToLearn(
            "the training window has no churner (or only churners): nothing to learn"
        )
    # scikit-learn is imported by the two functions that fit and measure, not with the module:
    # scoring a saved model (the hub) and `c360 churn --help` need none of it.
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = _matrix(rows)
    scaler = StandardScaler().fit(x)
    # Balanced classes: churners are few, and the score ranks rather than calibrates.
    clf = LogisticRegression(class_weight="balanced", max_iter=2000, C=0.5)
    clf.fit(scaler.transform(x), [s.label for s in rows])
    scale = [float(v) if v > 0 else 1.0 for v in scaler.scale_]
    labels = [s.label for s in rows]
    positives = sum(labels)
    # Balanced weights score as if churners were half the book: move the intercept back to
    # the real share so the score reads as a probability.
    prior = float(np.log(positives / (len(labels) - positives)))
    model = ChurnModel(
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(scale),
        coef=tuple(float(v) for v in clf.coef_[0]),
        intercept=float(clf.intercept_[0]) + prior,
        trained_at=iso(trained_at),
        as_of=iso(as_of),
        metrics={},
    )
    scores = sorted(model.score(s.features) for s in rows)
    return replace(
        model,
        alert_threshold=round(scores[int(0.9 * (len(scores) - 1))], 4),
        base_rate=round(positives / len(labels), 4),
    )


@dataclass(frozen=True)
class Ranking:
    auc: float
    top_decile_precision: float


def rank_quality(labels: Sequence[int], scores: Sequence[float]) -> Ranking:
    """ROC AUC and the share of churners among the top tenth of scores (ties by order)."""
    from sklearn.metrics import roc_auc_score  # imported here: see fit()

    n = len(labels)
    if n == 0 or len(set(labels)) < 2:
        return Ranking(float("nan"), float("nan"))
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    top = order[: max(1, n // 10)]
    return Ranking(float(roc_auc_score(labels, scores)), float(np.mean([labels[i] for i in top])))


@dataclass(frozen=True)
class SplitResult:
    train_at: datetime
    test_at: datetime
    train_size: int
    train_churners: int
    test_size: int
    test_churners: int
    model: Ranking
    rules: Ranking
    fitted: ChurnModel


def split(
    histories: Sequence[Mapping[str, Any]],
    now: datetime,
    rule: Callable[[Mapping[str, Any], datetime], float],
    horizon_days: int = HORIZON_DAYS,
) -> SplitResult:
    """Learn on snapshots whose horizons end by now - 1 horizon, test on features as of
    now - 1 horizon (churn up to now); the rule score is tested on the same customers."""
    train_at = now - timedelta(days=2 * horizon_days)
    test_at = now - timedelta(days=horizon_days)
    train = training_samples(histories, test_at, rule, horizon_days)
    test = samples(histories, test_at, rule)
    fitted = fit(train, now, train_at)
    labels = [s.label for s in test]
    return SplitResult(
        train_at=train_at,
        test_at=test_at,
        train_size=len(train),
        train_churners=sum(s.label for s in train),
        test_size=len(test),
        test_churners=sum(labels),
        model=rank_quality(labels, [fitted.score(s.features) for s in test]),
        rules=rank_quality(labels, [s.rule_score for s in test]),
        fitted=fitted,
    )


def _days(value: float) -> str:
    return f"{value:.0f} days"


# Readable reasons, one per feature, for when it raises the score.
_EXPLAIN: dict[str, Callable[[float], str]] = {
    "tenure_years": lambda v: f"customer for only {v:.1f} years",
    "age": lambda v: f"age {v:.0f}",
    "products": lambda v: f"holds only {v:.0f} product(s)",
    "tx_trend": lambda v: f"transactions {v:+.0%} on the previous 90 days",
    # Said only of an outflow: a model weight on inflows is no reason a person would accept.
    "balance_trend": lambda v: (
        f"net outflow of {-v:.0%} of assets in the last 90 days" if v < 0 else ""
    ),
    "complaints_180d": lambda v: f"{v:.0f} complaint(s) in the last 180 days",
    "unresolved_complaints": lambda v: f"{v:.0f} unresolved complaint(s)",
    "satisfaction": lambda v: f"average satisfaction {v:.1f}/5",
    "low_satisfaction": lambda v: f"{v:.0f} poor satisfaction score(s)",
    "household": lambda v: "no household ties" if v < 0.5 else "household member",
    "related": lambda v: f"{v:.0f} related customer(s)",
    "tx_log": lambda v: f"only {np.expm1(v):.0f} transactions in the last 90 days",
    "idle_days": lambda v: f"no activity for {_days(v)}",
    "large_outflow": lambda v: "more than a fifth of assets moved out in the last 90 days",
}


@dataclass(frozen=True)
class Explained:
    score: float
    reasons: tuple[tuple[str, str], ...]  # (feature, sentence)


def explain(
    model: ChurnModel, x: Mapping[str, float], top: int = 3, omit: frozenset[str] = frozenset()
) -> Explained:
    """The score and the ``top`` features that raise it most, as sentences; none when the
    score is below the book's base rate (nothing stands out). ``omit``: features whose
    sentence the caller may not see; the next ones take their place, so the count of
    reasons does not tell that one was left out."""
    if model.score(x) < model.base_rate:
        return Explained(round(model.score(x), 3), ())
    parts = sorted(model.contributions(x).items(), key=lambda kv: -kv[1])
    reasons: list[tuple[str, str]] = []
    for f, c in parts:
        if f in omit:
            continue
        text = _EXPLAIN[f](x[f])
        if len(reasons) == top or c <= 0.05:
            break
        if text and text not in {t for _, t in reasons}:  # two forms of one signal read alike
            reasons.append((f, text))
    return Explained(round(model.score(x), 3), tuple(reasons))


__all__ = [
    "AMOUNT_FEATURES",
    "BIRTH_DATE_FEATURES",
    "FEATURES",
    "HISTORY_DAYS",
    "HORIZON_DAYS",
    "READ_ERRORS",
    "ChurnModel",
    "Explained",
    "NothingToLearn",
    "Ranking",
    "Sample",
    "SplitResult",
    "UnreadableHistory",
    "churned_at",
    "explain",
    "features",
    "fit",
    "in_population",
    "label",
    "rank_quality",
    "samples",
    "split",
    "training_samples",
    "unreadable",
    "with_stored_times",
]
