"""How amounts leave the hub: decimal strings, the API's and the subject export's alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.validators import MINOR_UNITS

# Places for an amount whose currency is unknown or not recorded (an account without a
# currency is in the book's, CNY, which has two).
DEFAULT_PLACES = 2


def money(value: Any, currency: str | None) -> str | None:
    """``value`` as a decimal string with the ISO 4217 minor unit of ``currency`` (CNY
    ``"1234.50"``, KWD ``"1.005"``, JPY ``"1234"``; 2 places for an unknown currency), so
    masking can turn it into a band. Exact: the graph's 64-bit float is read by its shortest
    repr (the digits it was stored from, at most 15 significant), never rounded through
    ``float`` formatting; padded to the currency's places, and a value stored with more
    decimals than its currency has keeps them (nothing is dropped)."""
    if value is None:
        return None
    places = MINOR_UNITS.get(str(currency or "").strip().upper())
    if places is None:
        places = DEFAULT_PLACES
    text = repr(value) if isinstance(value, float) else str(value)
    whole, dot, fraction = text.partition(".")
    if text.isascii() and whole.lstrip("-").isdigit() and (not dot or fraction.isdigit()):
        # The plain spelling (every stored amount but an exponent form): padded as text, ~2x
        # cheaper than Decimal's normalize and quantize on the 360's ~40 amounts a request.
        fraction = fraction.rstrip("0")
        if whole == "-0" and not fraction:
            whole = "0"
        fraction += "0" * (places - len(fraction))
        return f"{whole}.{fraction}" if fraction else whole
    exact = Decimal(text)
    # Without trailing zeros (150000.0 has no decimals), and without a sign on zero.
    exact = exact.normalize() if exact else Decimal(0)
    exponent = exact.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < places:
        exact = exact.quantize(Decimal(1).scaleb(-places))
    return f"{exact:f}"


__all__ = ["DEFAULT_PLACES", "money"]
