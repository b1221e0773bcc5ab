"""How long the graph server may spend on one read, per task.

The hub's store carries the request limit (``C360_REQUEST_TIMEOUT_S``): a read a request gave
up on is stopped at the server too. The hub's background jobs read through the same store but
are no request: a scheduled alert run over a large book may need longer, and under the
request limit it failed at every run. Such a job runs inside :func:`read_limit`, and its reads
(and the tasks it starts) carry the job's limit and name the job's setting when stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_SETTING = "C360_REQUEST_TIMEOUT_S"


@dataclass(frozen=True, slots=True)
class ReadLimit:
    seconds: float | None  # None: no limit
    setting: str  # the setting that raises it, named when a read is stopped


_current: ContextVar[ReadLimit | None] = ContextVar("c360_read_limit", default=None)


@contextmanager
def read_limit(seconds: float | None, setting: str) -> Iterator[None]:
    """Reads inside carry ``seconds`` instead of the store's own limit."""
    token = _current.set(ReadLimit(seconds, setting))
    try:
        yield
    finally:
        _current.reset(token)


def limit_s(store_limit_s: float | None) -> float | None:
    """The limit for a read made now: the job's, else the store's."""
    job = _current.get()
    return store_limit_s if job is None else job.seconds


def limit_setting() -> str:
    """The setting to name when a read made now is stopped."""
    job = _current.get()
    return REQUEST_SETTING if job is None else job.setting


__all__ = ["REQUEST_SETTING", "ReadLimit", "limit_s", "limit_setting", "read_limit"]
