"""The days the hub computes "as of": the analytics' ``asOf`` and ``C360_AS_OF``, and how far
ahead an advisor's task window may lie. Near year 1 or 9999 the date arithmetic overflowed
(OverflowError, ValueError: 500s, or every request failing under such a setting)."""

from __future__ import annotations

from datetime import date, timedelta

# How far ahead of today (and, for task windows, behind it) a day may lie.
MAX_YEARS_AWAY = 10
YEARS_AWAY = timedelta(days=365 * MAX_YEARS_AWAY + MAX_YEARS_AWAY // 4)
# The earliest day analytics are computed as of: a historical book is read as of its own time
# (the Berka demo ends in 1998, README), so the past reaches further than the future.
EARLIEST_AS_OF = date(1900, 1, 1)


def as_of_error(as_of: date, today: date) -> str | None:
    """Why analytics cannot be computed as of ``as_of`` (None when they can)."""
    if not EARLIEST_AS_OF <= as_of <= today + YEARS_AWAY:
        return f"must be from {EARLIEST_AS_OF} to {MAX_YEARS_AWAY} years after today"
    return None


__all__ = ["EARLIEST_AS_OF", "MAX_YEARS_AWAY", "YEARS_AWAY", "as_of_error"]
