"""Paging through the customer list over HTTP vs the repository's raw reads, side by side.

    python bench/list_pages.py                      # 10,000 customers, every page of 100
    python bench/list_pages.py --quick              # 2,000 customers
    python bench/list_pages.py --pages 10           # only the first 10 pages (a slow hub)

Seeds hub.demo into a private temp data dir, starts the hub (`c360 serve`) as a subprocess, and
pages through ``customers(first: 100)`` with the usual list fields as the privacy officer
(every customer visible), following ``endCursor``. The raw path reads the same pages straight
from the repositories: the id window (``access.customer_id_window``, 101 ids), the customer rows
and their accounts (for the segment). Prints per-page p50/p99 and the total for both; last line
``ratio=<graphql total / raw total>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import pct  # noqa: E402
from bench.hub_process import free_port, start_hub, stop_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from graph.repositories import customer360 as repo  # noqa: E402
from graph.repositories.access import customer_id_window  # noqa: E402
from graph.store import GraphStore  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402

PAGE = 100
QUERY = """
query($after: String) {
  customers(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name phone riskProfile segment createdAt } }
  }
}
"""


async def raw_page(store: GraphStore, after: str | None) -> tuple[list[str], str | None]:
    """One page as the repositories read it: the id window, the rows, the accounts."""
    window = await customer_id_window(store, after, PAGE + 1)  # the list's own id window
    ids = window[:PAGE]
    await asyncio.gather(repo.customers_by_id(store, ids), repo.accounts_by_customer(store, ids))
    return ids, ids[-1] if len(window) > PAGE else None


async def run(customers: int, max_pages: int | None, data_dir: Path) -> None:
    store = await open_store(data_dir)
    proc: subprocess.Popen[bytes] | None = None
    try:
        print(f"seeding {customers} demo customers into {data_dir} ...", flush=True)
        await seed_demo(store, customers=customers, progress=True)
        port = free_port()
        proc = start_hub(data_dir, port)
        token = issue_token(
            load_or_create_secret(data_dir, "jwt"),
            "bench",
            ["privacy_officer"],
            purpose="compliance",
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ) as client:
            await wait_ready(client, proc)

            async def graphql_page(after: str | None) -> tuple[list[str], str | None]:
                response = await client.post(
                    "/graphql", json={"query": QUERY, "variables": {"after": after}}
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"GraphQL failed after {after}: {response.text[:300]}")
                data = body["data"]["customers"]
                ids = [e["node"]["id"] for e in data["edges"]]
                info = data["pageInfo"]
                return ids, info["endCursor"] if info["hasNextPage"] else None

            await graphql_page(None)  # warm: connections, query caches, decisions
            await raw_page(store, None)
            results: dict[str, tuple[list[float], float, list[str]]] = {}
            for name in ("graphql", "raw"):
                latencies: list[float] = []
                seen: list[str] = []
                after: str | None = None
                started = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    if name == "graphql":
                        ids, cursor = await graphql_page(after)
                    else:  # the raw cursor is the last id; the GraphQL one is opaque
                        ids, cursor = await raw_page(store, after)
                    latencies.append(time.perf_counter() - t0)
                    seen.extend(ids)
                    if cursor is None or (max_pages and len(latencies) >= max_pages):
                        break
                    after = cursor
                results[name] = (latencies, time.perf_counter() - started, seen)
        if results["graphql"][2] != results["raw"][2]:
            raise SystemExit("the two paths listed different customers")
        load = os.getloadavg()[0]
        print(f"\ncustomers={customers} pages={len(results['raw'][0])} of {PAGE}; load {load:.1f}")
        print(f"{'path':<16}{'p50 ms':>10}{'p99 ms':>10}{'total s':>10}")
        for name, (lat, wall, _) in results.items():
            label = "graphql (HTTP)" if name == "graphql" else "raw repository"
            p50, p99 = pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000
            print(f"{label:<16}{p50:>10.2f}{p99:>10.2f}{wall:>10.2f}")
        print(f"ratio={results['graphql'][1] / results['raw'][1]:.2f}")
    finally:
        stop_hub(proc)
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 customers")
    parser.add_argument("--pages", type=int, default=None, help="stop after this many pages")
    args = parser.parse_args()
    customers = 2000 if args.quick else args.customers
    data_dir = Path(tempfile.mkdtemp(prefix="c360l-", dir="/tmp"))
    try:
        asyncio.run(run(customers, args.pages, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
