"""Where `c360 seed`'s time goes: the seed's phases in one process (no CLI start-up), the seed
process's and the graph server's CPU, and optionally cProfile's top frames.

    python bench/profile_seed.py [--customers 100000] [--profile]

Seeds a fresh temp data dir exactly as `c360 seed` does (embedded FalkorDB, field cipher on,
GRAPH.BULK, write log folded at the end) and prints a timeline: each book part's generation,
its encoding and hand-over, the time spent waiting on the graph server's bulk loads, the index
creation, the write log's fold, then wall, CPU of both processes and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graph.bulk_insert as bulk_insert
import hub.demo as demo
from bench.profile_import import server_cpu
from bench.profile_list import print_profile
from graph.connect import store_session
from graph.falkordb import FalkorDBStore
from hub.cli.common import compact
from hub.services import protect_store
from hub.settings import Settings

T0 = time.perf_counter()
totals: dict[str, float] = {}


def note(name: str, seconds: float) -> None:
    totals[name] = totals.get(name, 0.0) + seconds
    print(f"{time.perf_counter() - T0:7.2f}s  {name:<24} {seconds:6.2f}s", flush=True)


def timed(obj: Any, attr: str, name: str) -> None:
    """Note each call's wall time of ``obj.attr`` (a coroutine function) under ``name``."""
    fn: Callable[..., Any] = getattr(obj, attr)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            note(name, time.perf_counter() - t0)

    setattr(obj, attr, wrapper)


def timed_parts(book_parts: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        parts = book_parts(*args, **kwargs)
        while True:
            t0 = time.perf_counter()
            part = next(parts, None)
            if part is None:
                return
            note(f"generate part {part.part}", time.perf_counter() - t0)
            yield part

    return wrapper


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the seed as well")
    opts = parser.parse_args()
    demo.book_parts = timed_parts(demo.book_parts)  # type: ignore[assignment]
    timed(bulk_insert.BulkLoader, "_wait", "wait for GRAPH.BULK")
    timed(FalkorDBStore, "setup_schema", "create indexes")
    timed(FalkorDBStore, "pause_log", "pause/fold write log")
    from hub.demo_bulk import BookLoader

    timed(BookLoader, "write", "encode + send part")
    with tempfile.TemporaryDirectory(prefix="scale-prof-", dir="/tmp") as tmp:
        os.environ["C360_DATA_DIR"] = tmp
        load0 = os.getloadavg()[0]
        async with store_session(Path(tmp)) as raw:
            assert isinstance(raw, FalkorDBStore) and raw._embedded is not None
            pid = raw._embedded.server_pid()
            assert pid is not None
            store = protect_store(raw, Settings())
            profiler = cProfile.Profile() if opts.profile else None
            s0, c0, t0 = server_cpu(pid), time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            counts = await demo.seed_demo(store, opts.customers, progress=False,
                                          wait_for_indexes=False)  # fmt: skip
            t1 = time.perf_counter()
            await compact(store)
            note("compact", time.perf_counter() - t1)
            if profiler is not None:
                profiler.disable()
            wall = time.perf_counter() - t0
            client, server = time.process_time() - c0, server_cpu(pid) - s0
    print(f"\nnodes {sum(counts.values()):,}  ({counts.get('Transaction', 0):,} transactions)")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24} {seconds:7.2f}s")
    print(f"wall {wall:.1f}s  seed CPU {client:.1f}s  graph server CPU {server:.1f}s  "
          f"load {load0:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    if profiler is not None:
        print_profile(profiler, 1, 40, "seed")


if __name__ == "__main__":
    asyncio.run(main())
