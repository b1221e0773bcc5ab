"""The currency of an amount whose row gives none, and its decimals checked against it.

A balance-only refresh (``id,balance``, the commonest daily CRM extract) or a transaction file
without a currency column re-denominated every USD, JPY or EUR record as CNY, and checked the
decimals against CNY (QA, session 26). Now a row without a currency keeps the stored record's;
a new transaction takes its account's; only a new record with neither (a new account, a
transaction on an account without a currency) is in the book's currency, CNY. Those are known
once a batch is looked up, so this runs in the import's classify step (ingest.writing), and the
record models check an amount's decimals only when the row gives its currency."""

from __future__ import annotations

from decimal import Decimal
from typing import LiteralString

from graph.repositories.customer360 import BOOK_CURRENCY
from graph.repositories.imports import Found
from graph.store import GraphStore, Row
from shared.records import ONE_GROUP, one_group_reason
from shared.validators import MINOR_UNITS, check_money

_ACCOUNT_CURRENCIES: LiteralString = (
    "UNWIND $ids AS id MATCH (a:Account {id: id}) RETURN id, a.currency AS currency"
)


async def parent_currencies(
    store: GraphStore, rows: list[Row], found: list[Found], parent: str | None
) -> dict[str, str]:
    """The stored currency of the parent account (row field ``parent``) of each new row that
    gives no currency; one read, none when no row needs it."""
    if parent is None:
        return {}
    ids = {
        str(row[parent])
        for row, state in zip(rows, found, strict=True)
        if not state.get("exists") and "currency" not in (row.get("props") or {})
    }
    if not ids:
        return {}
    result = await store.read(_ACCOUNT_CURRENCIES, {"ids": sorted(ids)})
    return {r["id"]: r["currency"] for r in result if r.get("currency")}


def priced(
    row: Row, state: Found, money: str, parents: dict[str, str], parent: str | None
) -> tuple[Row, list[str]]:
    """``row`` with the currency its amount (prop ``money``) is in when it gives none, and
    why that amount cannot be stored in it (more decimals than the currency has, or a
    one-group spelling ambiguous in a currency of three decimals)."""
    mark = row.get(ONE_GROUP)
    if mark is not None:
        row = {k: v for k, v in row.items() if k != ONE_GROUP}
    props = row.get("props") or {}
    amount = props.get(money)
    if "currency" in props or amount is None:
        return row, []
    exists = bool(state.get("exists"))
    stored = (state.get("props") or {}).get("currency") if exists else None
    inherited = parents.get(str(row.get(parent))) if parent and not exists else None
    currency = stored or inherited or BOOK_CURRENCY
    if stored or not exists:
        # Written as it is (unchanged for a stored one): a new record names its currency.
        row = {**row, "props": {**props, "currency": currency}}
    whose = (
        f"the stored {currency}"
        if stored
        else f"its account's {currency}"
        if inherited
        else f"the book's {currency}, as no currency is given or stored"
    )
    hint = f"; give a currency column if the amount is not in {currency}"
    if mark is not None and (MINOR_UNITS.get(currency) or 0) >= 3:
        return row, [f"{one_group_reason(money, str(mark))} (its currency: {whose})"]
    try:
        # The float gives back the amount exactly: the model took at most 15 digits.
        check_money(Decimal(repr(float(amount))), currency)
    except ValueError as exc:
        return row, [f"{money}: {exc} (its currency: {whose}){hint}"]
    return row, []


__all__ = ["parent_currencies", "priced"]
