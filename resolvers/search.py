"""Customer search and filter arguments, interpreted in one place.

The privacy layer hooks here later: a masked field must not become a search oracle, so every
filter a client can express goes through :class:`CustomerFilter`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.validators import normalize_phone
from resolvers.analytics import Segment, segment_bounds

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


__all__ = ["CustomerFilter", "customer_filter"]
