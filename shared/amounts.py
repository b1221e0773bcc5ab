"""How amounts leave the hub: decimal strings, the API's and the subject export's alike."""

from __future__ import annotations

from typing import Any


def money(value: Any) -> str | None:
    """Amounts travel as decimal strings so masking can turn them into bands."""
    if value is None:
        return None
    return f"{float(value):.2f}"


__all__ = ["money"]
