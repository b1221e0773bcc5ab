"""Requests per token subject: a token bucket each (C360_RATE_LIMIT_PER_S, C360_RATE_LIMIT_BURST).

A subject's bucket holds up to ``burst`` requests and refills at ``per_s`` a second; a request
takes one, and one that finds less than one is refused with the seconds until there is one
(HTTP: 429 and ``Retry-After``; websocket ``subscribe``: a protocol error, code RATE_LIMITED).
Only authenticated requests reach a bucket, so subjects are those of valid tokens; the table
is bounded anyway (``max_subjects``, least recently used out): a subject dropped from it comes
back with a full bucket, which a subject idle that long would have had again by then anyway
unless more than ``max_subjects`` subjects are busy at once.

Per process: with ``c360 serve --workers N`` each worker keeps its own buckets.

Not the ``limits`` package: its memory storage keeps every key until it expires (no bound on
the number of keys) and reads the wall clock; this is one dict operation and a little
arithmetic per request, on a monotonic clock the tests can pass.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from shared.settings import Settings

# Subjects whose buckets are kept at once (~200 bytes each: ~13 MB at most).
MAX_SUBJECTS = 65_536
RATE_LIMITED = "RATE_LIMITED"


class RateLimiter:
    """Token buckets per subject; ``per_s`` 0 turns it off (:meth:`take` always allows)."""

    def __init__(
        self,
        per_s: float,
        burst: int = 0,
        *,
        max_subjects: int = MAX_SUBJECTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_s = per_s
        # 0: two seconds' worth of requests, at least one.
        self.burst = float(burst or max(1, math.ceil(2 * per_s)))
        self.max_subjects = max_subjects
        self._clock = clock
        # subject -> [tokens left, when they were counted]; oldest use first.
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(settings.rate_limit_per_s, settings.rate_limit_burst)

    @property
    def enabled(self) -> bool:
        return self.per_s > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, subject: str) -> float:
        """Take one request from ``subject``'s bucket: 0.0 when allowed, else the seconds
        until the bucket holds one again (nothing is taken then)."""
        if self.per_s <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(subject)
        if bucket is None:
            if len(self._buckets) >= self.max_subjects:
                self._buckets.popitem(last=False)
            bucket = self._buckets[subject] = [self.burst, now]
        else:
            self._buckets.move_to_end(subject)
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.per_s)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0.0
        return (1.0 - bucket[0]) / self.per_s


def retry_after(wait_s: float) -> int:
    """``Retry-After``'s whole seconds for a wait: rounded up, at least 1."""
    return max(1, math.ceil(wait_s))


def refusal_text(wait_s: float) -> str:
    return (
        "too many requests for this token's subject (C360_RATE_LIMIT_PER_S): "
        f"retry after {retry_after(wait_s)} s"
    )


__all__ = ["MAX_SUBJECTS", "RATE_LIMITED", "RateLimiter", "refusal_text", "retry_after"]
