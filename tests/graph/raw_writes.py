"""Writes past our own client, for tests of what the store makes of replies it never wrote."""

from __future__ import annotations

import redis

from graph.falkordb import FalkorDBStore

# The probe node's `s`: bytes that are not UTF-8.
NOT_UTF8_PROBE = b"CREATE (:Probe {id: 'bad', s: '\xff\xfe'})"


def write_not_utf8_probe(store: FalkorDBStore) -> None:
    """A (:Probe {id: 'bad'}) whose string property ``s`` holds bytes that are not UTF-8."""
    threads = store._threads
    raw = redis.ConnectionPool(  # type: ignore[no-untyped-call]
        connection_class=threads.pool.connection_class, **threads.pool.connection_kwargs
    )
    try:
        redis.Redis(connection_pool=raw).execute_command("GRAPH.QUERY", "c360", NOT_UTF8_PROBE)
    finally:
        raw.disconnect()
