"""The hold-out (``c360 recommend eval``) reads what is held by the one rule the 360 view
reads: a CLOSED account is no holding (insights.recommend.held_products)."""

from __future__ import annotations

from typing import Any

from insights.holdout import BookCustomer, holders, latest_products


def acct(product: str, opened: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {"product": product, "openedAt": opened, "status": status, "type": "SAVINGS",
            "balance": 0.0 if status == "CLOSED" else 1000.0, "flow": 0.0}  # fmt: skip


def customer(cid: str, *accounts: dict[str, Any]) -> BookCustomer:
    return BookCustomer(cid, "20-50万", "25-34", "稳健", "H1", list(accounts))


def test_closed_accounts_are_not_held_in_the_holdout() -> None:
    """Session 21: the hold-out counted a CLOSED account as held (by the customer and as a
    household member's holding), and hid a closed product as the one 'opened last'."""
    me = customer(
        "me",
        acct("SAV-BASIC", "2020-01-01"),
        acct("CC-GOLD", "2021-01-01"),
        acct("MMF-ZZB", "2024-01-01", "closed"),  # opened last, but closed since
    )
    spouse = customer("spouse", acct("SAV-BASIC", "2019-01-01"), acct("LN-MORT", "2022-01-01",
                                                                          "CLOSED"))  # fmt: skip
    book = [me, spouse]
    assert latest_products(book) == {"me": "CC-GOLD"}  # spouse holds one product only
    mine, theirs = holders(book)
    assert mine.held == frozenset({"SAV-BASIC", "CC-GOLD"})
    assert theirs.held == frozenset({"SAV-BASIC"})
    assert mine.household == {"SAV-BASIC": 1}  # the spouse's closed mortgage is no holding
    hidden = holders(book, latest_products(book))[0]
    assert hidden.held == frozenset({"SAV-BASIC"})
