"""`c360 serve`."""

from __future__ import annotations

from hub.cli.common import fail


def serve() -> None:
    """Not built yet."""
    fail("'c360 serve' is not built yet")
