"""The 360 query's CPU in process: CPU per request, then cProfile's top frames.

    python bench/cprofile_360.py                      # 500 customers, 400 requests at 16
    python bench/cprofile_360.py --customers 2000 --requests 800 --top 40
    python bench/cprofile_360.py --no-profile         # CPU per request only (3 alternated runs)

Seeds hub.demo into a private temp data dir, builds the hub (``create_app``: regopy policy
engine, masking, audit log) over the store, and sends bench/customer360.py's QUERY as the
privacy officer through httpx's ASGI transport at ``--concurrency`` (the HTTP client's and the
ASGI transport's own work is in the figures; the graph server's is not: it is a separate
process). First without the profiler: this process's CPU per request (all threads: the policy
engine's and the audit's included) in ``--runs`` runs; then, unless ``--no-profile``, one run
under cProfile (the event loop's thread only; inflated by the profiler) and the top functions
by self and by inclusive time and self time by package (``--cpu``: the loop thread's CPU
time instead of wall time, which also counts epoll idling and GIL waits). Last line
``cpu_ms_per_request=<the median of the unprofiled runs>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:  # httpx's ASGI transport tries this import on every request: a miss is a file search
    import sniffio  # noqa: F401
except ImportError:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class GcClock:
    """CPU time spent in garbage collections (gc.callbacks, the collecting thread), per
    generation."""

    def __init__(self) -> None:
        self.spent = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.spent[info["generation"]] += time.thread_time() - self._start
            self.count[info["generation"]] += 1

    def reset(self) -> None:
        self.spent, self.count = [0.0, 0.0, 0.0], [0, 0, 0]


from bench.customer360 import httpx_call, measure  # noqa: E402
from bench.profile_list import print_profile  # noqa: E402
from graph.connect import store_session  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from hub.gc_tuning import tune_gc  # noqa: E402
from hub.settings import Settings  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


@asynccontextmanager
async def seeded_app(
    d: Path, customers: int, requests: int
) -> AsyncIterator[tuple[Starlette, str, list[str]]]:
    """The hub in this process over a fresh demo book of ``customers``, started (lifespan),
    a privacy officer's token and ``requests`` customer ids drawn with a fixed seed."""
    settings = Settings(data_dir=d, graph_url="")
    async with store_session(d) as store:
        print(f"seeding {customers} demo customers ...", flush=True)
        await seed_demo(store, customers=customers, progress=False)
        rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
        rng = random.Random(7)
        ids = [rng.choice([r["id"] for r in rows]) for _ in range(requests)]
        app = create_app(settings, store=store)
        token = issue_token(
            load_or_create_secret(d, "jwt"), "bench", ["privacy_officer"], purpose="compliance"
        )
        async with app.router.lifespan_context(app):
            yield app, token, ids


async def run(
    customers: int,
    requests: int,
    concurrency: int,
    runs: int,
    top: int,
    profile: bool,
    d: Path,
    dump: Path | None = None,
    cpu_timer: bool = False,
) -> None:
    async with (
        seeded_app(d, customers, requests) as (app, token, ids),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ) as client,
    ):
        call = httpx_call(client)

        for cid in ids[:30]:  # warm: caches, decisions, connections
            await call(cid)
        tune_gc()  # as `c360 serve` does once started
        cpu_ms: list[float] = []
        clock = GcClock()
        for n in range(runs):
            clock.reset()
            cpu0 = time.process_time()
            latencies, wall = await measure(call, ids, concurrency)
            cpu = time.process_time() - cpu0
            cpu_ms.append(cpu / len(ids) * 1000)
            print(
                f"run {n + 1}: {len(ids) / wall:.1f} req/s, p50 "
                f"{statistics.median(latencies) * 1000:.1f} ms, process CPU "
                f"{cpu_ms[-1]:.2f} ms/request; gc "
                + ", ".join(
                    f"gen{g} {clock.count[g]}x {clock.spent[g] * 1000:.0f} ms" for g in range(3)
                ),
                flush=True,
            )
        if profile:
            # The loop thread's CPU time, not wall time: a wall clock also counts the loop
            # idling in epoll and waiting for the GIL, which hid the frames that cost CPU.
            prof = cProfile.Profile(time.thread_time) if cpu_timer else cProfile.Profile()
            prof.enable()
            await measure(call, ids, concurrency)
            prof.disable()
            if dump is not None:
                prof.dump_stats(dump)
            print_profile(prof, len(ids), top, "request")
    print(f"cpu_ms_per_request={statistics.median(cpu_ms):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--dump", type=Path, default=None, help="write the pstats file here")
    parser.add_argument(
        "--cpu", action="store_true", help="profile the loop thread's CPU time, not wall time"
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="c360cp-", dir="/tmp"))
    try:
        asyncio.run(
            run(
                args.customers,
                args.requests,
                args.concurrency,
                args.runs,
                args.top,
                not args.no_profile,
                data_dir,
                args.dump,
                args.cpu,
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
