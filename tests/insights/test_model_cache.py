"""The process's model cache (resolvers/nba.py) looks at a model file at most once a second,
yet a model written by this process is read by the next request, another process's file
shows within the second, and a bad file fails every request that reads it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from insights.churn import FEATURES, ChurnModel
from resolvers import nba
from resolvers.nba import CHURN_FILE, model_path, models, write_model


def _model(trained_at: str) -> ChurnModel:
    n = len(FEATURES)
    return ChurnModel(
        mean=(0.0,) * n, scale=(1.0,) * n, coef=(0.1,) * n, intercept=-1.0,
        trained_at=trained_at, as_of=trained_at, metrics={},
    )  # fmt: skip


def test_model_file_looked_at_once_a_second(tmp_path: Path) -> None:
    cache = models(tmp_path)
    assert cache.churn_model() is None  # no file: the rules stay in charge
    write_model(tmp_path, CHURN_FILE, _model("2026-01-01").to_json())
    first = cache.churn_model()  # written by this process: read at once
    assert first is not None and first.trained_at == "2026-01-01"

    # Another process replaces the file (not through write_model): within the second the
    # kept model answers; once the second is over the new file is read.
    path = model_path(tmp_path, CHURN_FILE)
    other = path.with_suffix(".other")
    other.write_text(json.dumps(_model("2026-02-02").to_json()), encoding="utf-8")
    stat = path.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))  # a newer file
    other.replace(path)
    assert cache.churn_model() is first
    cache.churn.looked -= nba.STAT_INTERVAL_S  # as if the second had passed
    second = cache.churn_model()
    assert second is not None and second.trained_at == "2026-02-02"

    # A bad file fails each request that reads it, not only the first.
    path.write_text("{not json", encoding="utf-8")
    cache.churn.looked -= nba.STAT_INTERVAL_S
    for _ in range(2):
        with pytest.raises(ValueError):
            cache.churn_model()
    assert time.monotonic() - cache.churn.looked > nba.STAT_INTERVAL_S
