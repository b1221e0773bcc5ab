"""Reading an import's or an ingest's dead-letter file (JSON Lines), for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def dead_letters(path: Path) -> list[dict[str, Any]]:
    """The dead letters in ``path``, in order; none when no file was written."""
    if not path.exists():
        return []
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]
