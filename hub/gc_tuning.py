"""Garbage-collector settings for a serving process.

A full collection walks every tracked object. After start-up the hub holds a few hundred
thousand long-lived ones (schema, policy engine, models), and a large query allocates
enough to trigger collections often: py-spy showed single collections holding the event loop
for hundreds of milliseconds. :func:`tune_gc` moves what exists after start-up out of the
collector's sight (``gc.freeze``) and lets the young generation grow larger between
collections, so each one is short and rarer.

What a request leaves in reference cycles (graphql-core's execution context, the request's
loaders) and was still in flight during two younger collections reaches the oldest generation,
and waits there for a full collection. CPython runs one only after ``threshold2`` collections of
the middle generation *and* once the objects promoted since the last one exceed a quarter of
the long-lived count, which the full collection before the freeze set to every start-up object
(several hundred thousand, frozen since): under load the hub went minutes between full
collections, and pymalloc kept the arenas that backlog had needed (bench/soak.py,
docs/benchmarks.md "Memory"). So a collection after the freeze, of an oldest generation now
empty, sets that count to what the collector still sees, and the oldest generation is due
every ``GEN2_THRESHOLD`` middle collections: a full collection walks only what is not frozen.
"""

from __future__ import annotations

import gc

# Allocations between young-generation collections (CPython's default is 700).
GEN0_THRESHOLD = 20_000
# Middle-generation collections between full ones (CPython's default is 10).
GEN2_THRESHOLD = 2


def tune_gc() -> None:
    """Call once the app is built and started: everything alive now lives as long as the
    process, so later collections skip it."""
    gc.collect()
    gc.freeze()
    gc.collect()  # the long-lived count := what is not frozen (see the module docstring)
    _, gen1, _ = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, GEN2_THRESHOLD)


__all__ = ["GEN0_THRESHOLD", "GEN2_THRESHOLD", "tune_gc"]
