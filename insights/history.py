"""A customer's history (graph.repositories.insights.histories) as the recommender's inputs:
held products, household holdings, and total assets now and six months ago (from the net
flows of the accounts since then). Pure: rows and ``now`` in, values out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from insights.holdout import BookCustomer, assets
from insights.recommend import CLOSED, Holder, held_products, is_open

INFLOW_KINDS = frozenset(("DEPOSIT", "TRANSFER_IN", "SALARY", "INTEREST"))
FLOW_DAYS = 182


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signed(tx: Mapping[str, Any]) -> float:
    amount = float(tx.get("amount") or 0)
    return amount if str(tx.get("kind") or "").upper() in INFLOW_KINDS else -amount


def later_flow(history: Mapping[str, Any], at_iso: str) -> float:
    """The net inflow over the customer's accounts from ``at_iso`` on: what the balances of
    today hold that they did not then. The transaction rows at or after it, plus, where the
    history's rows stop at ``flowsFrom.since`` (graph.repositories.insights.histories with an
    end), the graph's per-account sums from there on. ValueError for a moment after that
    end: the rows between are not loaded."""
    rows = history.get("transactions") or []
    total = sum(signed(t) for t in rows if t["time"] >= at_iso)
    summed = history.get("flowsFrom")
    if summed is None:
        return total
    if at_iso > summed["since"]:
        raise ValueError(f"the history's transactions stop at {summed['since']}, before {at_iso}")
    return total + float(sum(summed["accounts"].values()))


def account_flows(
    transactions: Sequence[Mapping[str, Any]], since: str, until: str | None = None
) -> dict[str, float]:
    """Net inflow per account over [since, until)."""
    out: dict[str, float] = {}
    for tx in transactions:
        time = str(tx.get("time") or "")
        if time >= since and (until is None or time < until):
            key = str(tx.get("accountId"))
            out[key] = out.get(key, 0.0) + signed(tx)
    return out


def _accounts_with_flow(history: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    flows = account_flows(history.get("transactions") or [], iso(now - timedelta(days=FLOW_DAYS)))
    return [{**a, "flow": flows.get(a["id"], 0.0)} for a in history.get("accounts") or []]


def book_customer(
    history: Mapping[str, Any],
    now: datetime,
    age_band: str | None,
    ages: tuple[int, int] | None = None,
) -> BookCustomer:
    customer = history.get("customer") or {}
    return BookCustomer(
        id=str(customer.get("id")),
        income_band=customer.get("incomeBand"),
        age_band=age_band,
        risk_profile=customer.get("riskProfile"),
        household_id=history.get("householdId"),
        accounts=_accounts_with_flow(history, now),
        occupation=customer.get("occupation"),
        ages=ages,
    )


def holder(
    history: Mapping[str, Any],
    now: datetime,
    age_band: str | None,
    ages: tuple[int, int] | None = None,
) -> Holder:
    """The recommender's view of one customer, household holdings from ``members`` (their
    open accounts' products, as the repository reads them); closed accounts are not held."""
    customer = history.get("customer") or {}
    accounts = _accounts_with_flow(history, now)
    members = history.get("members") or []
    household = Counter(code for m in members for code in set(m.get("products") or []) if code)
    total, before = assets(accounts)
    return Holder(
        customer_id=str(customer.get("id")),
        income_band=customer.get("incomeBand"),
        age_band=age_band,
        risk_profile=customer.get("riskProfile"),
        held=held_products(accounts),
        household=dict(household),
        household_size=len(members),
        assets=total,
        assets_before=before,
        occupation=customer.get("occupation"),
        ages=ages,
    )


__all__ = [
    "CLOSED",
    "INFLOW_KINDS",
    "account_flows",
    "book_customer",
    "held_products",
    "holder",
    "is_open",
    "iso",
    "later_flow",
    "signed",
]
