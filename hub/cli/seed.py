"""`c360 seed`."""

from __future__ import annotations

from hub.cli.common import fail


def seed() -> None:
    """Not built yet."""
    fail("'c360 seed' is not built yet")
