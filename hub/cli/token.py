"""`c360 token`."""

from __future__ import annotations

from hub.cli.common import fail


def token() -> None:
    """Not built yet."""
    fail("'c360 token' is not built yet")
