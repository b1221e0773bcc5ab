"""Reading the graph's stored times: one parser for every reader that compares them.

The importer keeps a date-only value as it is given (``2020-01-01``: converting it would move
it to the previous day in UTC), and times as ``YYYY-MM-DDTHH:MM:SSZ``; readers that compare
instants must not mix naive datetimes (a date alone) with aware ones."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time or date string as an aware UTC datetime (None if absent/garbled): no
    offset means UTC, a date alone is its midnight UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["parse_time"]
