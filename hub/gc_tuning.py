"""Garbage-collector settings for a serving process.

A full collection walks every tracked object. After start-up the hub holds a few hundred
thousand long-lived ones (schema, policy engine, models), and a large query allocates
enough to trigger collections often: py-spy showed single collections holding the event loop
for hundreds of milliseconds. :func:`tune_gc` moves what exists after start-up out of the
collector's sight (``gc.freeze``) and lets the young generation grow larger between
collections, so each one is short and rarer.
"""

from __future__ import annotations

import gc

# Allocations between young-generation collections (CPython's default is 700).
GEN0_THRESHOLD = 20_000


def tune_gc() -> None:
    """Call once the app is built and started: everything alive now lives as long as the
    process, so later collections skip it."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


__all__ = ["GEN0_THRESHOLD", "tune_gc"]
