"""360 throughput against `c360 serve --workers N`, one data dir, one run.

    python bench/workers.py --quick                 # 500 customers, workers 1 and 2
    python bench/workers.py --customers 20000 --workers 1 2 4

Seeds hub.demo once into a temp data dir, then for each N starts `c360 serve --workers N` on
it (the first worker runs the embedded FalkorDB, the others connect to its socket), sends
bench/customer360.py's 360 query at concurrency 16 for the same customers, and stops it.
Prints p50/p99, req/s and CPU per request (the hub's processes together, this client, the
graph server) per N; last line ``scaling=<req/s at the largest N / req/s at 1>``.

The client posts with aiohttp and decodes with orjson, as bench/customer360.py does: with
httpx (until session 11) the client spent ~2-3 ms of CPU a request on the same 2 cores, as
much as a hub worker, and the figures measured the client's share as much as the hub's.
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
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import (  # noqa: E402
    QUERY,
    graph_pid,
    hub_pids,
    measure,
    pct,
    process_cpu,
    tree_cpu,
)
from bench.hub_process import free_port, start_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


async def one(
    data_dir: Path, workers: int, ids: list[str], token: str
) -> tuple[list[float], float, tuple[float, float, float]]:
    """Latencies and wall time at 16, and CPU seconds (hub processes, client, graph server)."""
    import aiohttp  # here, as in bench/customer360.py

    port = free_port()
    proc = start_hub(
        data_dir,
        port,
        "--workers",
        str(workers),
        log=data_dir / f"hub-{workers}.log",
        new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=60) as client,
            aiohttp.ClientSession(
                base_url, headers=auth, timeout=aiohttp.ClientTimeout(total=60)
            ) as session,
        ):
            await wait_ready(client, proc)

            async def graphql(cid: str) -> None:
                payload = orjson.dumps({"query": QUERY, "variables": {"id": cid}})
                async with session.post(
                    "/graphql", data=payload, headers={"Content-Type": "application/json"}
                ) as response:
                    text = await response.read()
                if response.status != 200 or orjson.loads(text).get("errors"):
                    raise SystemExit(f"GraphQL failed for {cid}: {text[:300]!r}")

            # Warm every worker (new connections land on either process).
            await asyncio.gather(*(graphql(cid) for cid in ids[:32]))
            server = graph_pid(data_dir)
            hub = hub_pids(proc.pid, exclude=server)
            before = tree_cpu(hub), time.process_time(), process_cpu(server)
            latencies, wall = await measure(graphql, ids, 16)
            after = tree_cpu(hub), time.process_time(), process_cpu(server)
            cpu = (after[0] - before[0], after[1] - before[1], after[2] - before[2])
            return latencies, wall, cpu
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
    print(
        f"{'workers':<10}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}"
        f"{'hub cpu ms/req':>16}{'client':>8}{'graph':>8}"
    )
    for n, (lat, wall, cpu) in results.items():
        hub_ms, client_ms, graph_ms = (c / len(lat) * 1000 for c in cpu)
        print(
            f"{n:<10}{pct(lat, 0.5) * 1000:>10.2f}{pct(lat, 0.99) * 1000:>10.2f}"
            f"{len(lat) / wall:>10.1f}{hub_ms:>16.2f}{client_ms:>8.2f}{graph_ms:>8.2f}"
        )
    first, last = results[counts[0]], results[counts[-1]]
    print(f"scaling={(len(last[0]) / last[1]) / (len(first[0]) / first[1]):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="500 customers")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--tmp-prefix", default="c360w-", help="the temp data dir's name prefix (under /tmp)"
    )
    args = parser.parse_args()
    customers = 500 if args.quick else args.customers
    requests = args.requests or (400 if args.quick else 1000)
    data_dir = Path(tempfile.mkdtemp(prefix=args.tmp_prefix, dir="/tmp"))
    try:
        asyncio.run(run(customers, requests, args.workers, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
