"""`c360 migrate`."""

from __future__ import annotations

from hub.cli.common import fail


def migrate() -> None:
    """Not built yet."""
    fail("'c360 migrate' is not built yet")
