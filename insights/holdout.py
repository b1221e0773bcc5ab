"""Time-ordered hold-out for the recommender: hide each customer's latest opened product,
fit on what is left, and rank. Pure: book rows in, scores out (``c360 recommend eval``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from insights.catalogue import Catalogue
from insights.recommend import (
    CoHolding,
    Holder,
    RankingScore,
    fit,
    held_products,
    is_open,
    offerable,
    popular,
    ranking_score,
    recommend,
)

LIABILITY_TYPES = ("LOAN", "CREDIT_CARD")


@dataclass(frozen=True)
class BookCustomer:
    """A customer row of the book: ``accounts`` as {product, openedAt, balance, type, status,
    flow} where ``flow`` is the account's net inflow over the last six months."""

    id: str
    income_band: str | None
    age_band: str | None
    risk_profile: str | None
    household_id: str | None
    accounts: Sequence[Mapping[str, Any]]
    occupation: str | None = None
    ages: tuple[int, int] | None = None  # (youngest, oldest): the products' age limits


def assets(accounts: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(total assets now, six months ago) over the non-liability accounts."""
    now = before = 0.0
    for a in accounts:
        if str(a.get("type") or "").upper() in LIABILITY_TYPES:
            continue
        balance = float(a.get("balance") or 0)
        now += balance
        before += balance - float(a.get("flow") or 0)
    return now, before


def holders(book: Sequence[BookCustomer], hidden: Mapping[str, str] | None = None) -> list[Holder]:
    """Holders for the book, without each customer's ``hidden`` product (and its accounts);
    what each holds, and each household member, is :func:`held_products` (no CLOSED account)."""
    hidden = hidden or {}
    kept: dict[str, list[Mapping[str, Any]]] = {
        c.id: [a for a in c.accounts if a.get("product") != hidden.get(c.id)] for c in book
    }
    held = {cid: held_products(accs) for cid, accs in kept.items()}
    members: dict[str, list[str]] = defaultdict(list)
    for c in book:
        if c.household_id:
            members[c.household_id].append(c.id)
    out = []
    for c in book:
        others = [m for m in members.get(c.household_id or "", []) if m != c.id]
        household = Counter(code for m in others for code in held[m])
        now, before = assets(kept[c.id])
        out.append(
            Holder(
                customer_id=c.id,
                income_band=c.income_band,
                age_band=c.age_band,
                risk_profile=c.risk_profile,
                held=held[c.id],
                household=dict(household),
                household_size=len(others),
                assets=now,
                assets_before=before,
                occupation=c.occupation,
                ages=c.ages,
            )
        )
    return out


def latest_products(book: Sequence[BookCustomer]) -> dict[str, str]:
    """Per customer holding at least two products: the held product opened last (ties: by
    code). A CLOSED account is not held (:func:`is_open`): neither hidden nor counted."""
    out: dict[str, str] = {}
    for c in book:
        opened: dict[str, str] = {}
        for a in filter(is_open, c.accounts):
            code, at = str(a.get("product") or ""), str(a.get("openedAt") or "")
            if code and (code not in opened or at < opened[code]):
                opened[code] = at
        if len(opened) >= 2:
            out[c.id] = max(opened, key=lambda k: (opened[k], k))
    return out


@dataclass(frozen=True)
class HoldoutResult:
    method: RankingScore
    popularity: RankingScore
    skipped_ineligible: int

    @property
    def ratio(self) -> float:
        base = self.popularity.hit_rate
        return self.method.hit_rate / base if base else float("inf")


def evaluate(book: Sequence[BookCustomer], catalogue: Catalogue, k: int = 3) -> HoldoutResult:
    hidden = latest_products(book)
    masked = holders(book, hidden)
    model: CoHolding = fit(masked)
    ours: list[tuple[str, list[str]]] = []
    base: list[tuple[str, list[str]]] = []
    skipped = 0
    for holder in masked:
        target = hidden.get(holder.customer_id)
        if target is None:
            continue
        product = catalogue.get(target)
        if product is None or not offerable(catalogue, product, holder.risk_profile, holder.ages):
            skipped += 1  # no method may offer it: not a fair case for either
            continue
        ours.append((target, [r.code for r in recommend(holder, model, catalogue, k)]))
        base.append((target, popular(holder, model, catalogue, k)))
    return HoldoutResult(ranking_score(ours, k), ranking_score(base, k), skipped)


__all__ = ["BookCustomer", "HoldoutResult", "assets", "evaluate", "holders", "latest_products"]
