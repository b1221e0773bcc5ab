"""Where the training corpora are: ../shared/data/sentiment beside the clone (CI), else the
machine's shared copy; tests that need them skip with the reason when neither exists."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (REPO.parent / "shared" / "data" / "sentiment", Path("/work/shared/data/sentiment"))


def corpus_dir() -> Path:
    for path in CANDIDATES:
        if (path / "MANIFEST.md").is_file():
            return path
    pytest.skip(f"sentiment corpora not found at {' or '.join(map(str, CANDIDATES))}")
