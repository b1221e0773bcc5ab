"""Cross-sell and up-sell recommendations from co-holding: pure functions, data in, data out.

The model is counts (``fit``): how many customers hold each product and each pair of products,
overall, per peer cell (income band x age band, and within it the risk profile) and per
occupation. A
candidate's score is a naive-Bayes style log-odds: the product's share among the customer's
peers (smoothed from the finest cell towards the whole book), plus for every product the
customer holds the lift "holders of h also hold p", plus what the other members of the
household hold. Up-sell candidates (a higher tier of a held family, catalogue.json) get a bonus
when the customer's assets have stayed above the tier's threshold for six months. Products
held, not suitable for the risk profile (catalogue.json ``suitability``) or outside the
product's age limits (``minAge``/``maxAge``) never come up: :func:`offerable`, the one rule
campaign audiences apply too.

Counts, not a fitted black box, so every score comes with the sentence that explains it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import permutations
from typing import Any

from insights.catalogue import Ages, Catalogue, CatalogueProduct

# Pseudo-counts pulling a small cell's figures towards the whole book's.
CELL_PRIOR = 8.0
BOOK_PRIOR = 4.0
# Log-odds added by a household where every other member holds the product, and by an up-sell
# whose asset threshold has held for SUSTAINED_MONTHS (tuned on the demo book's hold-out).
HOUSEHOLD_WEIGHT = 2.0
UPSELL_BONUS = 1.0
SUSTAINED_MONTHS = 6
# An account of this status is no longer held: its product may be offered again, it is no
# lower tier to up-sell from, no household holding, and it counts in neither the fitted counts
# nor the hold-out (graph.repositories.insights leaves members' closed accounts out with the
# same word).
CLOSED = "CLOSED"


class RecommendationKind(StrEnum):
    CROSS_SELL = "CROSS_SELL"
    UP_SELL = "UP_SELL"


class ReasonSource(StrEnum):
    """What a reason is derived from: it is shown only where that source is (privacy)."""

    PEERS = "PEERS"  # the customer's age band (from the birth date) and income band
    HOUSEHOLD = "HOUSEHOLD"  # other customers' holdings
    AMOUNT = "AMOUNT"  # the customer's balances


@dataclass(frozen=True)
class Reason:
    text: str
    source: ReasonSource


@dataclass(frozen=True)
class Holder:
    """One customer as the recommender sees them. ``assets`` and ``assets_before`` (six months
    ago) are None where unknown; ``household`` counts, per product, the other members holding
    it (and ``household_size`` those members). ``ages`` (youngest, oldest) are the ages the
    customer may be as far as the caller can tell, for the products' age limits only (the
    score reads ``age_band``); None: unknown, no age-limited product."""

    customer_id: str
    income_band: str | None
    age_band: str | None
    risk_profile: str | None
    held: frozenset[str]
    household: Mapping[str, int] = field(default_factory=dict)
    household_size: int = 0
    assets: float | None = None
    assets_before: float | None = None
    occupation: str | None = None
    ages: Ages | None = None

    @property
    def cell(self) -> str:
        return f"{self.income_band or '?'}|{self.age_band or '?'}"

    @property
    def risk_cell(self) -> str:
        return f"{self.cell}|{self.risk_profile or '?'}"


@dataclass(frozen=True)
class Recommendation:
    code: str
    kind: RecommendationKind
    score: float
    reasons: tuple[Reason, ...]


@dataclass
class CoHolding:
    """The fitted counts; JSON-serialisable through ``to_json`` / ``from_json``."""

    customers: int = 0
    single: Counter[str] = field(default_factory=Counter)
    pairs: Counter[str] = field(default_factory=Counter)  # "h>p"
    cells: Counter[str] = field(default_factory=Counter)  # cell -> customers
    cell_single: Counter[str] = field(default_factory=Counter)  # "cell|p"
    cell_pairs: Counter[str] = field(default_factory=Counter)  # "cell|h>p"
    risk_cells: Counter[str] = field(default_factory=Counter)  # risk cell -> customers
    risk_single: Counter[str] = field(default_factory=Counter)  # "risk cell|p"
    occupations: Counter[str] = field(default_factory=Counter)  # occupation -> customers
    occupation_single: Counter[str] = field(default_factory=Counter)  # "occupation|p"

    def to_json(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "single": dict(self.single),
            "pairs": dict(self.pairs),
            "cells": dict(self.cells),
            "cellSingle": dict(self.cell_single),
            "cellPairs": dict(self.cell_pairs),
            "riskCells": dict(self.risk_cells),
            "riskSingle": dict(self.risk_single),
            "occupations": dict(self.occupations),
            "occupationSingle": dict(self.occupation_single),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CoHolding:
        return cls(
            customers=int(data["customers"]),
            single=Counter(data["single"]),
            pairs=Counter(data["pairs"]),
            cells=Counter(data["cells"]),
            cell_single=Counter(data["cellSingle"]),
            cell_pairs=Counter(data["cellPairs"]),
            risk_cells=Counter(data["riskCells"]),
            risk_single=Counter(data["riskSingle"]),
            occupations=Counter(data.get("occupations") or {}),
            occupation_single=Counter(data.get("occupationSingle") or {}),
        )

    def popularity(self, code: str) -> float:
        return self.single[code] / self.customers if self.customers else 0.0

    def book_confidence(self, held: str, code: str) -> float:
        """Share of holders of ``held`` who also hold ``code``, smoothed towards popularity."""
        prior = self.popularity(code)
        return (self.pairs[f"{held}>{code}"] + BOOK_PRIOR * prior) / (
            self.single[held] + BOOK_PRIOR
        )

    def peer_share(self, holder: Holder, code: str) -> float:
        """Share of the customer's peers holding ``code``: risk cell -> cell -> book."""
        book = self.popularity(code)
        cell = (self.cell_single[f"{holder.cell}|{code}"] + CELL_PRIOR * book) / (
            self.cells[holder.cell] + CELL_PRIOR
        )
        return (self.risk_single[f"{holder.risk_cell}|{code}"] + CELL_PRIOR * cell) / (
            self.risk_cells[holder.risk_cell] + CELL_PRIOR
        )

    def occupation_share(self, occupation: str | None, code: str) -> float:
        """Share of the customers with this occupation holding ``code``, smoothed."""
        key = occupation or "?"
        return (self.occupation_single[f"{key}|{code}"] + CELL_PRIOR * self.popularity(code)) / (
            self.occupations[key] + CELL_PRIOR
        )

    def cell_confidence(self, cell: str, held: str, code: str) -> tuple[float, int]:
        """(smoothed share of the cell's holders of ``held`` who hold ``code``, those holders)."""
        n = self.cell_single[f"{cell}|{held}"]
        both = self.cell_pairs[f"{cell}|{held}>{code}"]
        return (both + CELL_PRIOR * self.book_confidence(held, code)) / (n + CELL_PRIOR), n


def fit(holders: Iterable[Holder]) -> CoHolding:
    model = CoHolding()
    for h in holders:
        model.customers += 1
        model.cells[h.cell] += 1
        model.risk_cells[h.risk_cell] += 1
        model.occupations[h.occupation or "?"] += 1
        for code in h.held:
            model.single[code] += 1
            model.cell_single[f"{h.cell}|{code}"] += 1
            model.risk_single[f"{h.risk_cell}|{code}"] += 1
            model.occupation_single[f"{h.occupation or '?'}|{code}"] += 1
        for a, b in permutations(sorted(h.held), 2):
            model.pairs[f"{a}>{b}"] += 1
            model.cell_pairs[f"{h.cell}|{a}>{b}"] += 1
    return model


def offerable(
    catalogue: Catalogue, product: CatalogueProduct, risk_profile: str | None, ages: Ages | None
) -> bool:
    """Whether a customer may be offered ``product`` at all: suitable for their risk profile
    (the catalogue's table; an unknown profile only the lowest risk) and within its age limits
    (unknown ages: no age-limited product). Recommendations, the hold-out and campaign
    audiences all ask this, so no offer follows another rule."""
    return catalogue.suitability.allows(risk_profile, product) and product.allows_ages(ages)


def eligible(holder: Holder, catalogue: Catalogue) -> list[str]:
    """Products the customer may be offered: not held, :func:`offerable`."""
    return [
        code
        for code, product in catalogue.products.items()
        if code not in holder.held
        and offerable(catalogue, product, holder.risk_profile, holder.ages)
    ]


def is_open(account: Mapping[str, Any]) -> bool:
    """Whether the account is still held (any status but CLOSED; no status: held)."""
    return str(account.get("status") or "").upper() != CLOSED


def held_products(accounts: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The products of the accounts the customer still holds (not CLOSED): the one rule of
    what is held, for the 360 view, the fitted counts and the hold-out alike."""
    return frozenset(str(a["product"]) for a in accounts if a.get("product") and is_open(a))


def _money(value: float) -> str:
    return f"{value / 10_000:,.0f}万" if value >= 10_000 else f"{value:,.0f}"


def _upsell(holder: Holder, code: str, catalogue: Catalogue) -> tuple[bool, Reason | None]:
    """(a lower tier of the family is held, the sustained-assets reason when it applies)."""
    product = catalogue.products[code]
    lower = [
        c
        for c in holder.held
        if (p := catalogue.get(c)) is not None
        and p.family == product.family
        and p.tier < product.tier
    ]
    if not lower:
        return False, None
    floor = product.min_assets
    if floor is None or holder.assets is None or holder.assets_before is None:
        return True, None
    if min(holder.assets, holder.assets_before) < floor:
        return True, None
    return True, Reason(
        f"total assets above the {_money(floor)} threshold of {product.name} "
        f"for {SUSTAINED_MONTHS} months",
        ReasonSource.AMOUNT,
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _peer_reason(
    holder: Holder, model: CoHolding, catalogue: Catalogue, code: str
) -> tuple[float, Reason | None]:
    """(sum of the held products' log lifts for ``code``, the sentence for the strongest)."""
    base = _logit(model.popularity(code))
    total, best, best_held = 0.0, 0.0, None
    for held in sorted(holder.held):
        lift = _logit(model.book_confidence(held, code)) - base
        total += lift
        if lift > best:
            best, best_held = lift, held
    if best_held is None:
        return total, None
    share, n = model.cell_confidence(holder.cell, best_held, code)
    if n < 5:
        return total, None
    held_name = catalogue.products[best_held].name if best_held in catalogue.products else best_held
    peers = f"your income band ({holder.income_band or 'unknown'})"
    if holder.age_band:
        peers += f" and age band ({holder.age_band})"
    return total, Reason(
        f"{share:.0%} of customers in {peers} who hold {held_name} also hold "
        f"{catalogue.products[code].name}",
        ReasonSource.PEERS,
    )


def recommend(
    holder: Holder, model: CoHolding, catalogue: Catalogue, first: int = 3
) -> list[Recommendation]:
    """The ``first`` best eligible products for ``holder``, best first (ties by code)."""
    out: list[Recommendation] = []
    for code in eligible(holder, catalogue):
        product = catalogue.products[code]
        lifts, peer = _peer_reason(holder, model, catalogue, code)
        log_odds = _logit(model.peer_share(holder, code)) + lifts
        # Occupation as one more naive-Bayes term (payroll, business and retired books differ).
        log_odds += _logit(model.occupation_share(holder.occupation, code)) - _logit(
            model.popularity(code)
        )
        reasons = [peer] if peer else []
        members = holder.household.get(code, 0)
        if members and holder.household_size:
            log_odds += HOUSEHOLD_WEIGHT * members / holder.household_size
            reasons.append(
                Reason(
                    f"{members} of your {holder.household_size} household member(s) hold "
                    f"{product.name}",
                    ReasonSource.HOUSEHOLD,
                )
            )
        is_upsell, sustained = _upsell(holder, code, catalogue)
        if sustained is not None:
            log_odds += UPSELL_BONUS
            reasons.append(sustained)
        kind = RecommendationKind.UP_SELL if is_upsell else RecommendationKind.CROSS_SELL
        score = 1 / (1 + math.exp(-log_odds))
        out.append(Recommendation(code, kind, round(score, 4), tuple(reasons)))
    out.sort(key=lambda r: (-r.score, r.code))
    return out[:first]


def popular(holder: Holder, model: CoHolding, catalogue: Catalogue, first: int = 3) -> list[str]:
    """The baseline: the most held eligible products of the whole book."""
    ranked = sorted(eligible(holder, catalogue), key=lambda c: (-model.single[c], c))
    return ranked[:first]


@dataclass(frozen=True)
class RankingScore:
    hit_rate: float
    mrr: float
    cases: int


def ranking_score(cases: Sequence[tuple[str, Sequence[str]]], k: int = 3) -> RankingScore:
    """Hit rate@k and mean reciprocal rank (within the top k) of (hidden, ranked) cases."""
    hits, rr = 0, 0.0
    for hidden, ranked in cases:
        top = list(ranked[:k])
        if hidden in top:
            hits += 1
            rr += 1 / (top.index(hidden) + 1)
    n = len(cases)
    return RankingScore(hits / n if n else 0.0, rr / n if n else 0.0, n)


__all__ = [
    "CLOSED",
    "CoHolding",
    "Holder",
    "RankingScore",
    "Reason",
    "ReasonSource",
    "Recommendation",
    "RecommendationKind",
    "eligible",
    "fit",
    "held_products",
    "is_open",
    "offerable",
    "popular",
    "ranking_score",
    "recommend",
]
