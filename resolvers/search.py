"""Customer search and filter arguments, interpreted in one place.

A masked field must not become a search oracle, so every filter a client can express goes
through :class:`CustomerFilter`, and :func:`visible_matches` keeps only matches the caller may
see *by the clause that matched*: a name match needs NAME revealed, a phone match PHONE
revealed, a segment filter AMOUNT revealed or banded (the segment bounds are band bounds);
an id match needs only row access. Ordering by a field the caller does not see revealed for
every listed customer is refused (FORBIDDEN_FILTER).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph.store import Row
from ingest.validators import normalize_phone
from privacy.types import Decision, MaskMode, SensitiveKind
from resolvers.analytics import Segment, segment_bounds
from resolvers.privacy import ForbiddenFilter

MAX_SEARCH_CHARS = 100


@dataclass(frozen=True)
class CustomerFilter:
    """``text`` matches name (contains) or id (exact); ``phone`` is ``text`` as E.164 when it
    reads as a phone number (exact match on the stored phone)."""

    text: str | None = None
    phone: str | None = None
    min_assets: float | None = None
    max_assets: float | None = None


def customer_filter(
    search: str | None, wanted: Segment | None, *, high: float, middle: float
) -> CustomerFilter:
    text = (search or "").strip()[:MAX_SEARCH_CHARS] or None
    phone: str | None = None
    if text is not None:
        try:
            phone = normalize_phone(text, "CN")
        except ValueError:
            phone = None
    low, top = segment_bounds(wanted, high, middle) if wanted is not None else (None, None)
    return CustomerFilter(text=text, phone=phone, min_assets=low, max_assets=top)


class CustomerOrder(StrEnum):
    ID = "ID"
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    TOTAL_ASSETS = "TOTAL_ASSETS"


# The personal kind an ordering reads; None: not personal.
_ORDER_KIND: dict[CustomerOrder, SensitiveKind | None] = {
    CustomerOrder.ID: None,
    CustomerOrder.NAME: SensitiveKind.NAME,
    CustomerOrder.CREATED_AT: None,
    CustomerOrder.TOTAL_ASSETS: SensitiveKind.AMOUNT,
}
_ORDER_KEY = {
    CustomerOrder.NAME: "name",
    CustomerOrder.CREATED_AT: "createdAt",
    CustomerOrder.TOTAL_ASSETS: "assets",
}


def _mode(decision: Decision | None, kind: str) -> str:
    # No decision at all means the plain (bench-only) app: everything is revealed.
    return MaskMode.REVEAL if decision is None else decision.mode_for(kind)


def visible_matches(
    candidates: list[Row], decisions: dict[str, Decision] | None, wanted: CustomerFilter
) -> list[Row]:
    """The candidates the caller may list, given how each one matched the search."""
    out = []
    for row in candidates:
        decision = None if decisions is None else decisions.get(row["id"])
        if decisions is not None and (decision is None or not decision.allow):
            continue
        if wanted.text is not None and not (
            row.get("byId") is True
            or (row.get("byName") is True and _mode(decision, "NAME") == MaskMode.REVEAL)
            or (row.get("byPhone") is True and _mode(decision, "PHONE") == MaskMode.REVEAL)
        ):
            continue
        if (wanted.min_assets is not None or wanted.max_assets is not None) and _mode(
            decision, "AMOUNT"
        ) not in (MaskMode.REVEAL, MaskMode.BAND):
            continue
        out.append(row)
    return out


def order_rows(
    rows: list[Row], decisions: dict[str, Decision] | None, order: CustomerOrder
) -> list[Row]:
    """Rows (already in id order) in ``order``; ties and missing values by id."""
    kind = _ORDER_KIND[order]
    if order == CustomerOrder.ID:
        return rows
    if (
        kind is not None
        and decisions is not None
        and any(_mode(decisions.get(r["id"]), kind) != MaskMode.REVEAL for r in rows)
    ):
        raise ForbiddenFilter(
            f"ordering by {order.value} needs {kind.value} revealed for every listed "
            "customer; filter further or order by ID or CREATED_AT",
            field="orderBy",
        )
    key = _ORDER_KEY[order]

    def sort_key(r: Row) -> tuple[bool, Any]:
        value = r.get(key)
        return (value is None, value if value is not None else 0)

    return sorted(rows, key=sort_key)  # stable: id order within ties


__all__ = [
    "CustomerFilter",
    "CustomerOrder",
    "customer_filter",
    "order_rows",
    "visible_matches",
]
