"""360 throughput against `c360 serve --workers N`, one data dir, one run.

    python bench/workers.py --quick                 # 500 customers, workers 1 and 2
    python bench/workers.py --customers 20000 --workers 1 2 4

Seeds hub.demo once into a temp data dir, then for each N starts `c360 serve --workers N` on
it (the first worker runs the embedded FalkorDB, the others connect to its socket), sends
bench/customer360.py's 360 query at concurrency 16 for the same customers, and stops it.
Prints p50/p99 and req/s per N; last line ``scaling=<req/s at the largest N / req/s at 1>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import QUERY, measure, pct  # noqa: E402
from bench.hub_process import free_port, start_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


async def one(
    data_dir: Path, workers: int, ids: list[str], token: str
) -> tuple[list[float], float]:
    port = free_port()
    proc = start_hub(
        data_dir,
        port,
        "--workers",
        str(workers),
        log=data_dir / f"hub-{workers}.log",
        new_session=True,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
            timeout=60,
        ) as client:
            await wait_ready(client, proc)

            async def graphql(cid: str) -> None:
                response = await client.post(
                    "/graphql", json={"query": QUERY, "variables": {"id": cid}}
                )
                if response.status_code != 200 or response.json().get("errors"):
                    raise SystemExit(f"GraphQL failed for {cid}: {response.text[:300]}")

            # Warm every worker (new connections land on either process).
            await asyncio.gather(*(graphql(cid) for cid in ids[:32]))
            return await measure(graphql, ids, 16)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the uvicorn parent and its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def run(customers: int, requests: int, counts: list[int], data_dir: Path) -> None:
    store = await open_store(data_dir)
    try:
        print(f"seeding {customers} demo customers ...", flush=True)
        await seed_demo(store, customers=customers, progress=False)
        rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    finally:
        await store.close()  # the hub's first worker runs the graph from here on
    rng = random.Random(7)
    ids = [rng.choice([r["id"] for r in rows]) for _ in range(requests)]
    token = issue_token(
        load_or_create_secret(data_dir, "jwt"),
        "bench",
        ["privacy_officer"],
        purpose="compliance",
    )
    results = {n: await one(data_dir, n, ids, token) for n in counts}
    load = os.getloadavg()[0]
    print(f"\ncustomers={customers} requests={requests} concurrency 16; load {load:.1f}")
    print(f"{'workers':<10}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for n, (lat, wall) in results.items():
        print(
            f"{n:<10}{pct(lat, 0.5) * 1000:>10.2f}{pct(lat, 0.99) * 1000:>10.2f}"
            f"{len(lat) / wall:>10.1f}"
        )
    first, last = results[counts[0]], results[counts[-1]]
    print(f"scaling={(len(last[0]) / last[1]) / (len(first[0]) / first[1]):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="500 customers")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    customers = 500 if args.quick else args.customers
    requests = args.requests or (400 if args.quick else 1000)
    data_dir = Path(tempfile.mkdtemp(prefix="c360w-", dir="/tmp"))
    try:
        asyncio.run(run(customers, requests, args.workers, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
