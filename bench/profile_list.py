"""Where a ``customers(first: 100)`` page's time goes: cProfile over the hub paging in-process.

    python bench/profile_list.py                 # 2,000 customers, every page, twice
    python bench/profile_list.py --customers 10000 --rounds 1 --top 40

Seeds hub.demo into a private temp data dir, builds the hub (``create_app``: regopy policy
engine, masking, audit log) over the store, and pages through the list query of
bench/list_pages.py as the privacy officer through httpx's ASGI transport, under cProfile. The
graph server and the policy engine's and audit's threads run outside the profile (their work
shows as waits). Prints CPU ms per page of this process, the top functions by self and by
inclusive time, and self time by package.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.list_pages import QUERY  # noqa: E402
from graph.connect import store_session  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from hub.gc_tuning import tune_gc  # noqa: E402
from hub.settings import Settings  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


def package_of(filename: str) -> str:
    """A short owner name for a profiled file: ours by top-level directory, else the library."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if str(ROOT) in filename:
        return "c360/" + path.relative_to(ROOT).parts[0]
    if filename == "~":
        return "builtins"
    return "stdlib" if filename.startswith(("/usr", "<")) or "python3" in filename else filename


async def page_all(client: httpx.AsyncClient) -> int:
    after: str | None = None
    pages = 0
    while True:
        response = await client.post(
            "/graphql", json={"query": QUERY, "variables": {"after": after}}
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise SystemExit(f"page failed: {response.text[:300]}")
        pages += 1
        info = body["data"]["customers"]["pageInfo"]
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]


Waits = dict[str, list[float]]


def print_profile(
    profile: cProfile.Profile, count: int, top: int, unit: str, *, ours: bool = False
) -> None:
    """cProfile's top frames by self and inclusive time (and c360's own, with ``ours``), then
    self time by package per ``unit`` (one page, one request)."""
    stats = pstats.Stats(profile)
    for key in ("tottime", "cumulative"):
        print(f"\ntop {top} by {key}")
        stats.sort_stats(key).print_stats(top)
    if ours:
        print(f"\ntop {top} of c360's own functions by cumulative")
        stats.sort_stats("cumulative").print_stats(
            r"/(schema|resolvers|privacy|graph|hub|shared)/", top
        )
    by_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[package_of(filename)] += tottime
        total += tottime
    print("self time by package (under cProfile)")
    for name, t in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {name:<28}{t / count * 1000:8.2f} ms/{unit} {100 * t / total:6.1f} %")


def timed_async(waits: Waits, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a coroutine function) with each call's wall time noted under ``name``."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            waits[name].append(time.perf_counter() - t0)

    return wrapper


def timed(waits: Waits, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a plain function, run in a thread) with each call's wall time noted."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            waits[name].append(time.perf_counter() - t0)

    return wrapper


async def run(
    customers: int, rounds: int, top: int, data_dir: Path, waits_only: bool = False
) -> None:
    settings = Settings(data_dir=data_dir, graph_url="")
    async with store_session(data_dir) as store:
        print(f"seeding {customers} demo customers ...", flush=True)
        await seed_demo(store, customers=customers, progress=False)
        app = create_app(settings, store=store)
        token = issue_token(
            load_or_create_secret(data_dir, "jwt"),
            "bench",
            ["privacy_officer"],
            purpose="compliance",
        )
        async with app.router.lifespan_context(app):
            waits: Waits = defaultdict(list)
            services = app.state.privacy.services
            audit, engine = services.audit, services.engine
            audit._write_batch = timed(waits, "audit write (thread)", audit._write_batch)
            engine.decide = timed_async(waits, "policy engine", engine.decide)
            read = store.read

            async def keyed_read(query: str, params: Any = None) -> Any:
                return await timed_async(waits, "read " + " ".join(query.split())[:50], read)(
                    query, params
                )

            store.read = keyed_read
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            ) as client:
                await page_all(client)  # warm: caches, decisions, connections
                tune_gc()  # as `c360 serve` does once started
                profile = cProfile.Profile()
                pages = 0
                cpu0, wall0 = time.process_time(), time.perf_counter()
                waits.clear()
                if not waits_only:
                    profile.enable()
                for _ in range(rounds):
                    pages += await page_all(client)
                profile.disable()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    note = "" if waits_only else " (under cProfile, so inflated)"
    print(
        f"\npages={pages} wall {wall / pages * 1000:.1f} ms/page, "
        f"process CPU {cpu / pages * 1000:.1f} ms/page{note}"
    )
    print("waits (wall, overlapping): calls per page, ms per page")
    for name, times in waits.items():
        print(f"  {name:<60}{len(times) / pages:6.1f} {sum(times) / pages * 1000:8.2f}")
    if waits_only:
        return
    print_profile(profile, pages, top, "page", ours=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--waits-only", action="store_true", help="time the waits, no cProfile")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="c360p-", dir="/tmp"))
    try:
        asyncio.run(run(args.customers, args.rounds, args.top, data_dir, args.waits_only))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
