"""Glue between the graph and the pure next-best-action logic (``insights``): loading the
book in pages, the rule score as of a past moment, and the fitted models kept per process.

Models live as JSON in ``<data dir>/insights/``: ``c360 recommend train`` / ``c360 churn
train`` write them. A hub without a recommender file fits one from the graph once per process
(at most BUILD_CAP customers, refreshed after MODEL_TTL_S), so a 360 request never scans the
book itself; without a churn file the rule score stays in charge.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from strawberry.dataloader import DataLoader

from graph.repositories import insights as repo
from graph.repositories.access import customer_id_window
from graph.store import GraphStore, Row
from insights import history as hist
from insights.catalogue import Ages
from insights.churn import ChurnModel, with_stored_times
from insights.recommend import CoHolding, Holder, fit, held_products
from resolvers import analytics
from resolvers.paced_loader import PacedDataLoader
from shared.files import replace_file
from shared.records import customer_initiated

MODEL_DIR = "insights"
RECOMMEND_FILE = "recommend-model.json"
CHURN_FILE = "churn-model.json"
PAGE = 100  # histories carry transactions: small pages keep each query short
HOLDINGS_PAGE = 2000
BUILD_CAP = 50_000
MODEL_TTL_S = 3600.0
# How long a look at a model file's mtime holds (a stat per 360 request was ~2 % of the hub's
# samples under load); a model written by another process shows within this, one written by
# this process (write_model) at once.
STAT_INTERVAL_S = 1.0


async def load_histories(
    store: GraphStore,
    since: datetime,
    cap: int | None = None,
    advance: Callable[[int], object] | None = None,
) -> list[Row]:
    """Every customer's history (transactions since ``since``), in pages of PAGE customers."""
    out: list[Row] = []
    after = ""
    while cap is None or len(out) < cap:
        limit = PAGE if cap is None else min(PAGE, cap - len(out))
        ids = await customer_id_window(store, after, limit)
        if not ids:
            break
        found = await _histories(store, ids, hist.iso(since))
        out.extend(found[i] for i in ids if i in found)
        after = ids[-1]
        if advance is not None:
            advance(len(ids))
    return out


async def _histories(
    store: GraphStore, ids: list[str], since: str, until: str | None = None
) -> dict[str, Row]:
    """repo.histories with every time the insights compare in the stored form (a date-only
    createdAt, openedAt or interaction time, kept as imported, is its midnight UTC); with
    ``until``, transaction rows before it and the flows from it on summed per account."""
    found = await repo.histories(store, ids, since, until, sorted(hist.INFLOW_KINDS))
    return {cid: with_stored_times(h) for cid, h in found.items()}


async def count_customers(store: GraphStore) -> int:
    rows = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    return int(rows[0]["n"]) if rows else 0


def birth_date(history: Mapping[str, Any]) -> Any:
    """The birth date a customer's history holds, as stored."""
    return (history.get("customer") or {}).get("birthDate")


def age_band(history: Mapping[str, Any], now: datetime, year_only: bool = False) -> str | None:
    """The customer's age band at ``now``; ``year_only``: from the birth year alone, as the
    ``ageBand`` field gives it to a caller who sees only the year (the band from the full date
    would tell whether the birthday has passed)."""
    birth = analytics.parse_date(birth_date(history))
    if year_only:
        return analytics.age_band_from_year(birth.year if birth else None, now.date())
    return analytics.age_band(birth, now.date())


def ages(born: Any, now: datetime, year_only: bool = False) -> Ages | None:
    """The ages (youngest, oldest) the customer may be at ``now``, for the products' age limits:
    from the full birth date one age; ``year_only`` (a caller who sees only the year) both
    ages the year allows, so a limit holds whichever side of the birthday ``now`` is and the
    answer tells nothing finer than the year (``born``: the stored birth date). None without
    a birth date."""
    birth = analytics.parse_date(born)
    if birth is None:
        return None
    if year_only:
        reached = now.year - birth.year  # the age reached this calendar year
        return (reached - 1, reached)
    exact = analytics.age(birth, now.date())
    return (exact, exact)


def rule_score(history: Mapping[str, Any], at: datetime) -> float:
    """The 360 view's rule score (analytics.churn_risk) as it would have read at ``at``."""
    at_iso = hist.iso(at)
    flow_since = hist.iso(at - timedelta(days=analytics.FLOW_WINDOW_DAYS))
    complaints_since = hist.iso(at - timedelta(days=analytics.COMPLAINT_WINDOW_DAYS))
    txs = [t for t in history.get("transactions") or [] if str(t.get("time") or "") < at_iso]
    later = hist.later_flow(history, at_iso)
    ixs = [i for i in history.get("interactions") or [] if str(i.get("time") or "") < at_iso]
    accounts = [a for a in history.get("accounts") or [] if str(a.get("openedAt") or "") < at_iso]
    activity = analytics.Activity(
        last_transaction_at=max((t["time"] for t in txs), default=None),
        # The customer's own: the bank's SMS or care call is no sign they are still active.
        last_interaction_at=max((i["time"] for i in ixs if customer_initiated(i)), default=None),
        net_flow=sum(hist.signed(t) for t in txs if t["time"] >= flow_since),
        complaints=sum(
            1
            for i in ixs
            if str(i.get("kind") or "").upper() == "COMPLAINT" and i["time"] >= complaints_since
        ),
    )
    held = analytics.held_assets(accounts)  # None: a balance is unknown, or mixed currencies
    assets = None if held is None else max(0.0, held - later)
    return analytics.churn_risk(assets, activity, at).score


def model_path(data_dir: Path, name: str) -> Path:
    return data_dir / MODEL_DIR / name


def write_model(data_dir: Path, name: str, data: Mapping[str, Any]) -> Path:
    path = model_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, json.dumps(data, ensure_ascii=False))  # readers never see half a file
    cache = _CACHES.get(data_dir)
    if cache is not None:  # this process reads it from the next request on
        cache.recommender.looked = cache.churn.looked = float("-inf")
    return path


async def fit_recommender(store: GraphStore, now: datetime, cap: int | None = None) -> CoHolding:
    """Fit on the book's holdings (no transactions: fitting needs none), HOLDINGS_PAGE at a
    time. With ``cap`` and a book larger than it, on a sample spread over the whole book (every
    k-th customer of the walk in id order, k = ceil(book / cap)), never the first ``cap`` ids:
    those may be one import's customers, not the book's mix."""
    every = 1
    if cap is not None:
        book = await count_customers(store)
        every = max(1, -(-book // cap))
    holders: list[Holder] = []
    after = ""
    while cap is None or len(holders) < cap:
        limit = HOLDINGS_PAGE if cap is None else min(HOLDINGS_PAGE, cap - len(holders))
        rows = await repo.holdings_page(store, after, limit, every)
        if not rows:
            break
        holders.extend(
            Holder(
                customer_id=r["id"],
                income_band=r.get("incomeBand"),
                age_band=age_band({"customer": r}, now),
                risk_profile=r.get("riskProfile"),
                held=held_products(r.get("accounts") or []),
                occupation=r.get("occupation"),
            )
            for r in rows
        )
        after = rows[-1]["id"]
    return fit(holders)


@dataclass
class _Cached:
    value: Any = None
    stamp: float = 0.0  # file mtime, or build time for a model fitted in process
    built: bool = False
    looked: float = float("-inf")  # monotonic time of the last stat
    present: bool = False  # what that stat found


@dataclass
class ModelCache:
    """The process's models for one data dir (see the module docstring)."""

    data_dir: Path
    recommender: _Cached = field(default_factory=_Cached)
    churn: _Cached = field(default_factory=_Cached)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _file(self, name: str, cached: _Cached, parse: Callable[[Any], Any]) -> bool:
        now = time.monotonic()
        if now - cached.looked < STAT_INTERVAL_S:
            return cached.present and cached.value is not None and not cached.built
        cached.looked, cached.present = now, False
        path = model_path(self.data_dir, name)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return False
        cached.present = True
        if cached.value is None or cached.built or cached.stamp != mtime:
            try:
                cached.value = parse(json.loads(path.read_text(encoding="utf-8")))
            except Exception:
                cached.looked = float("-inf")  # a bad file fails every request, as before
                raise
            cached.stamp, cached.built = mtime, False
        return True

    async def recommend_model(self, store: GraphStore, now: datetime) -> CoHolding:
        if self._file(RECOMMEND_FILE, self.recommender, CoHolding.from_json):
            return self.recommender.value  # type: ignore[no-any-return]
        async with self.lock:
            fresh = time.monotonic() - self.recommender.stamp < MODEL_TTL_S
            if self.recommender.value is None or not fresh:
                self.recommender.value = await fit_recommender(store, now, BUILD_CAP)
                self.recommender.stamp, self.recommender.built = time.monotonic(), True
        return self.recommender.value  # type: ignore[no-any-return]

    def churn_model(self) -> ChurnModel | None:
        if self._file(CHURN_FILE, self.churn, ChurnModel.from_json):
            return self.churn.value  # type: ignore[no-any-return]
        self.churn.value = None
        return None


_CACHES: dict[Path, ModelCache] = {}


def models(data_dir: Path) -> ModelCache:
    """The process-wide cache for a data dir (created on first use, nothing opened)."""
    cache = _CACHES.get(data_dir)
    if cache is None:
        cache = _CACHES[data_dir] = ModelCache(data_dir)
    return cache


__all__ = [
    "CHURN_FILE",
    "RECOMMEND_FILE",
    "ModelCache",
    "NbaLoaders",
    "age_band",
    "ages",
    "birth_date",
    "count_customers",
    "fit_recommender",
    "load_histories",
    "model_path",
    "models",
    "rule_score",
    "write_model",
]


# --- the request path -------------------------------------------------------------------

HISTORY_DAYS = 200  # transactions a 360 request reads per customer (flows, churn features)


class NbaLoaders:
    """The request's history loaders: one round trip set per batch of customers and window."""

    def __init__(self, store: GraphStore, now: datetime) -> None:
        self._store, self._now = store, now
        self._windows: dict[str, DataLoader[str, Row | None]] = {}
        self.history = self.history_before(now)

    def history_before(self, moment: datetime) -> DataLoader[str, Row | None]:
        """Histories whose transactions cover the HISTORY_DAYS before ``moment``, and for a
        past moment the flows since it summed per account in the graph (features as of a
        past moment take the assets then from today's balances less the flows since): the
        rows read stay those of the window however far back ``moment`` is. churnRisk(asOf:)
        read a window ending now, so a customer active before a past asOf looked idle then.
        One loader per window and request."""
        since = hist.iso(min(moment, self._now) - timedelta(days=HISTORY_DAYS))
        until = hist.iso(moment) if moment < self._now else None
        key = f"{since}/{until}"
        loader = self._windows.get(key)
        if loader is None:
            store = self._store

            async def load(ids: list[str]) -> list[Row | None]:
                found = await _histories(store, list(dict.fromkeys(ids)), since, until)
                return [found.get(i) for i in ids]

            loader = self._windows[key] = PacedDataLoader(load_fn=load)
        return loader
