"""Customer search and filter arguments, interpreted in one place.

A masked field must not become a search oracle, by its answer or by its timing, so every
filter a client can express goes through :class:`CustomerFilter` and :func:`plan_search`
decides, before any graph lookup and on no graph data, how it may run:

- a caller with no customer access at all is refused (FORBIDDEN);
- a phone number, ID number or e-mail address (exact, through keyed blind indexes: the values
  are sealed at rest) or a segment needs PHONE / NATIONAL_ID / EMAIL revealed / AMOUNT
  revealed or banded for at least the customers the caller's best grant reaches, else
  FORBIDDEN_FILTER;
- a name clause is dropped (the text then matches ids only) for a caller who never sees names;
- when every customer a clause could match is visible with that field revealed (the caller's
  unconditional grant reveals it), the filtered query runs; otherwise the search *scans*: the
  graph returns every customer with the clause flags, every one is decided (engine answers are
  kept per attribute set, so after the first scan this costs lookups), and matching happens
  here, so a value that matches customers the caller may not see costs exactly what a value
  that matches nothing costs. An exact id lookup by a scoped caller (the name clause dropped)
  finds one row or none and decides it, or PAD_ROW, fresh from the engine.
- a caller whose unconditional grant reaches (and reveals the searched fields of) every
  customer gets a page *window*: only the page's rows are read and decided, the total is
  counted in the graph; the window is checked like any page, and the listing falls back to
  deciding every candidate should a row come back not visible.

:func:`visible_matches` then keeps only matches the caller may see *by the clause that
matched*: a name match needs NAME revealed, a phone match PHONE revealed, a segment filter
AMOUNT revealed or banded (banded, a customer matches when the whole band lies in the
segment, as the ``segment`` field says); an id match needs only row access. Ordering by a
field the caller does not see revealed for every listed customer is refused
(FORBIDDEN_FILTER).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from graph.store import Row
from privacy.masking import band_range
from privacy.types import Decision, MaskMode, SensitiveKind
from resolvers.analytics import Segment, segment_bounds
from resolvers.errors import BadUserInput, SearchTooBroad
from resolvers.privacy import PAD_ROW, Forbidden, ForbiddenFilter
from shared.validators import cn_id_token, normalize_phone

MAX_SEARCH_CHARS = 100


@dataclass(frozen=True)
class CustomerFilter:
    """``text`` matches the id (exact) and, as ``name``, the name (contains; None when the
    caller may not search by name); ``phone`` is ``text`` as E.164 when it reads as a phone
    number and not as an ID number, ``id_number`` when it reads as a national ID number,
    ``email`` when it reads as an e-mail address (exact matches, through the keyed blind
    indexes)."""

    text: str | None = None
    phone: str | None = None
    min_assets: float | None = None
    max_assets: float | None = None
    name: str | None = None
    id_number: str | None = None
    email: str | None = None

    @property
    def by_segment(self) -> bool:
        return self.min_assets is not None or self.max_assets is not None


@dataclass(frozen=True)
class SearchPlan:
    wanted: CustomerFilter
    scan: bool  # match in Python over every customer (same work whatever matches)
    pad: bool = False  # an exact id lookup: decide PAD_ROW when the id matches nothing
    # Every match is visible with the matched clause revealed (the caller's unconditional grant
    # reaches every customer): a page can be read as a window (``id > after LIMIT first + 1``)
    # and counted in the graph, instead of deciding every candidate per page.
    window: bool = False


def customer_filter(
    search: str | None, wanted: Segment | None, *, high: float, middle: float
) -> CustomerFilter:
    text = (search or "").strip() or None
    if text is not None and len(text) > MAX_SEARCH_CHARS:
        # Refused, never cut: a cut text would match what the caller did not ask for.
        raise BadUserInput(
            f"search must be at most {MAX_SEARCH_CHARS} characters",
            field="search",
            max=MAX_SEARCH_CHARS,
        )
    low, top = segment_bounds(wanted, high, middle) if wanted is not None else (None, None)
    # As the hash token reads it (shared/validators.cn_id_token): spaces, dashes, full-width
    # digits, a lower-case "x", the first-generation 15-digit form (its 18-digit equivalent).
    id_token = cn_id_token(text) if text is not None else ""
    id_number = id_token if _ID_NUMBER.fullmatch(id_token) else None
    # The ID reading first: a first-generation number ("110105800101123") also parses as a
    # CN phone number (+865800101123), and a text that is an ID number is searched (and
    # refused, for a caller without NATIONAL_ID revealed) as one, never as a phone number.
    phone: str | None = None
    if text is not None and id_number is None:
        try:
            phone = normalize_phone(text, "CN")
        except ValueError:
            phone = None
    email = text.lower() if text is not None and _EMAIL.fullmatch(text) else None
    return CustomerFilter(
        text=text,
        phone=phone,
        min_assets=low,
        max_assets=top,
        name=text,
        id_number=id_number,
        email=email,
    )


_ID_NUMBER = re.compile(r"\d{17}[\dX]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Exact clauses on a personal value: (filter attribute, kind that must be revealed, what to say).
_EXACT = (
    ("phone", SensitiveKind.PHONE, "phone number"),
    ("id_number", SensitiveKind.NATIONAL_ID, "ID number"),
    ("email", SensitiveKind.EMAIL, "e-mail address"),
)


_SHOWS_AMOUNT = (MaskMode.REVEAL, MaskMode.BAND)


def plan_search(wanted: CustomerFilter, floor: Decision, best: Decision) -> SearchPlan:
    """How a search may run for a caller whose unconditional grant gives ``floor`` and whose
    most favourable customer gives ``best`` (see RequestPrivacy.reach). Raises Forbidden or
    ForbiddenFilter before anything is read."""
    if not best.allow:
        raise Forbidden(f"access denied: {best.reason}")
    if wanted.by_segment and best.mode_for(SensitiveKind.AMOUNT) not in _SHOWS_AMOUNT:
        raise ForbiddenFilter(
            "filtering by segment needs AMOUNT revealed or banded; list without it",
            field="segment",
        )
    for attr, kind, what in _EXACT:
        if getattr(wanted, attr) is not None and best.mode_for(kind) != MaskMode.REVEAL:
            raise ForbiddenFilter(
                f"searching by {what} needs {kind.value} revealed; search by customer id instead",
                field="search",
            )
    name = wanted.name if best.mode_for(SensitiveKind.NAME) == MaskMode.REVEAL else None
    wanted = replace(wanted, name=name)

    def everywhere(kind: SensitiveKind, modes: tuple[str, ...]) -> bool:
        return floor.allow and floor.mode_for(kind) in modes

    exact = [getattr(wanted, attr) for attr, _, _ in _EXACT]
    id_only = wanted.text is not None and name is None and exact == [None] * len(exact)
    if not floor.allow and id_only and not wanted.by_segment:
        # Ids are unique: one row or none (PAD_ROW decided instead), one fresh decision.
        return SearchPlan(wanted, scan=False, pad=True)
    scan = not floor.allow or (
        (name is not None and not everywhere(SensitiveKind.NAME, (MaskMode.REVEAL,)))
        or any(
            getattr(wanted, attr) is not None and not everywhere(kind, (MaskMode.REVEAL,))
            for attr, kind, _ in _EXACT
        )
        # Banded amounts match by their band (visible_matches), which the graph's exact
        # bounds and count cannot tell: only revealed amounts everywhere filter in the graph.
        or (wanted.by_segment and not everywhere(SensitiveKind.AMOUNT, (MaskMode.REVEAL,)))
    )
    return SearchPlan(wanted, scan, window=floor.allow and not scan)


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
    # No decision for a row: nothing of it is shown (fail closed).
    return MaskMode.REDACT if decision is None else decision.mode_for(kind)


def visible_matches(
    candidates: list[Row], decisions: dict[str, Decision], wanted: CustomerFilter
) -> list[Row]:
    """The candidates the caller may list, given how each one matched the search."""
    out = []
    for row in candidates:
        decision = decisions.get(row["id"])
        if decision is None or not decision.allow:
            continue
        if wanted.text is not None and not (
            row.get("byId") is True
            or (row.get("byName") is True and _mode(decision, "NAME") == MaskMode.REVEAL)
            or (row.get("byPhone") is True and _mode(decision, "PHONE") == MaskMode.REVEAL)
            or (row.get("byIdNumber") is True and _mode(decision, "NATIONAL_ID") == MaskMode.REVEAL)
            or (row.get("byEmail") is True and _mode(decision, "EMAIL") == MaskMode.REVEAL)
        ):
            continue
        if wanted.by_segment:
            amount_mode = _mode(decision, "AMOUNT")
            if amount_mode not in _SHOWS_AMOUNT or not _in_segment(
                row.get("assets"), wanted, banded=amount_mode != MaskMode.REVEAL
            ):
                continue
        out.append(row)
    return out


def _in_segment(assets: Any, wanted: CustomerFilter, *, banded: bool) -> bool:
    """Whether ``assets`` is in the wanted segment as the caller sees it: exactly, or, for a
    caller who sees only the band, when the whole band is (the ``segment`` field's rule: a
    band that straddles a bound has no segment), so membership says no more than the band."""
    # A scan returns every customer: the segment bounds are applied here.
    if assets is None:
        return False
    low: float | None
    top: float | None
    if banded:
        band = band_range(assets)
        if band is None:
            return False
        low, top = band
    else:
        low = top = assets
    return (wanted.min_assets is None or low >= wanted.min_assets) and (
        wanted.max_assets is None
        or (top is not None and (top <= wanted.max_assets if banded else top < wanted.max_assets))
    )


def order_rows(rows: list[Row], decisions: dict[str, Decision], order: CustomerOrder) -> list[Row]:
    """Rows (already in id order) in ``order``; ties and missing values by id."""
    kind = _ORDER_KIND[order]
    if order == CustomerOrder.ID:
        return rows
    if kind is not None and any(
        _mode(decisions.get(r["id"]), kind) != MaskMode.REVEAL for r in rows
    ):
        raise ForbiddenFilter(
            f"ordering by {order.value} needs {kind.value} revealed for every listed "
            "customer; filter further or order by ID or CREATED_AT",
            field="orderBy",
        )
    return sorted(rows, key=lambda r: order_key(r, order))  # stable: id order within ties


def order_key(row: Row, order: CustomerOrder) -> tuple[bool, Any]:
    """Where ``row`` sorts in ``order`` (not ID), before ties: customers without the value
    last. The customer list's sealed cursors carry it (resolvers/customers.py)."""
    value = row.get(_ORDER_KEY[order])
    return (value is None, value if value is not None else 0)


def refuse_beyond(read: int, ceiling: int, what: str, advice: str) -> None:
    """SearchTooBroad once more than ``ceiling`` customers (C360_SEARCH_MAX_CANDIDATES) are
    read: the work bound of a search, a campaign's audience and its contact list, never a
    list or a count cut short. ``what`` names the work, ``advice`` how to narrow it; the
    message names no customer."""
    if read > ceiling:
        raise SearchTooBroad(
            f"{what} would read more than {ceiling} customers; {advice}", maxCandidates=ceiling
        )


async def bounded_batches(
    fetch: Callable[[str | None, int], Awaitable[list[Row]]],
    *,
    batch: int,
    ceiling: int,
    what: str,
    advice: str,
) -> AsyncIterator[list[Row]]:
    """Every row of a walk in id order, a batch at a time: ``fetch(after, cap)`` reads at most
    ``cap`` rows after the id ``after`` (None: from the first), ``cap`` at most ``batch`` (the
    search candidate cap). The first batch is yielded even when empty. :func:`refuse_beyond`
    once more than ``ceiling`` rows are read, so at most ``ceiling + 1`` are."""
    after: str | None = None
    read = 0
    while True:
        cap = min(batch, ceiling + 1 - read)
        rows = await fetch(after, cap)
        read += len(rows)
        refuse_beyond(read, ceiling, what, advice)
        yield rows
        if len(rows) < cap:
            return
        after = rows[-1]["id"]


__all__ = [
    "PAD_ROW",
    "CustomerFilter",
    "CustomerOrder",
    "SearchPlan",
    "bounded_batches",
    "customer_filter",
    "order_key",
    "order_rows",
    "plan_search",
    "refuse_beyond",
    "visible_matches",
]
