"""Score many texts: in-process and vectorised for the linear model; for snownlp (pure Python
per text) a process pool sized to the cores, in-process for small batches."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from sentiment.scorer import Score, Scorer, ScorerConfig

# Below this many texts the pool's start-up costs more than it saves.
IN_PROCESS_BELOW = 200
CHUNK = 100

_worker_scorer: Scorer | None = None


def _init_worker(config: ScorerConfig) -> None:
    global _worker_scorer
    _worker_scorer = Scorer(config)


def _score_chunk(texts: Sequence[str]) -> list[Score]:
    assert _worker_scorer is not None, "pool worker used before its initializer ran"
    return _worker_scorer.score_many(texts)


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class BatchScorer:
    """Owns the pool (started lazily, closed by ``close``/the context manager)."""

    def __init__(self, config: ScorerConfig | None = None, max_workers: int | None = None) -> None:
        self.config = config or ScorerConfig()
        self.max_workers = max_workers or workers()
        self._local: Scorer | None = None
        self._pool: ProcessPoolExecutor | None = None

    @property
    def local(self) -> Scorer:
        if self._local is None:
            self._local = Scorer(self.config)
        return self._local

    @property
    def version(self) -> str:
        return self.local.version

    def pool(self) -> Executor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.max_workers, initializer=_init_worker, initargs=(self.config,)
            )
        return self._pool

    def score(self, texts: Sequence[str]) -> list[Score]:
        local = self.local
        if not local.parallel or len(texts) < IN_PROCESS_BELOW or self.max_workers == 1:
            return local.score_many(texts)
        results: list[Score] = []
        for part in self.pool().map(_score_chunk, chunks(texts, CHUNK)):
            results.extend(part)
        return results

    def raw(self, texts: Sequence[str]) -> list[float | None]:
        return [s.score for s in self.score(texts)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> BatchScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CHUNK", "IN_PROCESS_BELOW", "BatchScorer", "chunks", "workers"]
