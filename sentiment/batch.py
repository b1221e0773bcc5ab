"""Score many texts: a process pool sized to the cores, in-process for small batches."""

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


def _score_chunk(texts: Sequence[str]) -> list[float | None]:
    assert _worker_scorer is not None, "pool worker used before its initializer ran"
    return [_worker_scorer.raw(t) for t in texts]


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

    def raw(self, texts: Sequence[str]) -> list[float | None]:
        if len(texts) < IN_PROCESS_BELOW or self.max_workers == 1:
            return [self.local.raw(t) for t in texts]
        results: list[float | None] = []
        for part in self.pool().map(_score_chunk, chunks(texts, CHUNK)):
            results.extend(part)
        return results

    def score(self, texts: Sequence[str]) -> list[Score]:
        from sentiment.labels import label_for

        pos, neg = self.config.positive, self.config.negative
        return [Score(v, label_for(v, pos, neg)) for v in self.raw(texts)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> BatchScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CHUNK", "IN_PROCESS_BELOW", "BatchScorer", "chunks", "workers"]
