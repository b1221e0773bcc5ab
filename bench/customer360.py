"""Customer-360 query through the full HTTP stack vs the repository's raw Cypher, side by side.

    python bench/customer360.py --quick          # ~500 customers, under a minute
    python bench/customer360.py --customers 20000
    python bench/customer360.py --quick --workers 2   # `c360 serve --workers 2`
    python bench/customer360.py --floor      # also the same reads behind a bare HTTP server

Seeds hub.demo into a private temp data dir, starts the hub (`c360 serve`) as a subprocess on
a free loopback port, then for the same customers measures (a) POST /graphql with the full
360 query (httpx AsyncClient) and (b) the same reads done by the repository functions
directly, at concurrency 1 and 16. Prints p50/p99 latency and throughput for both, the hub
process's CPU per GraphQL request (user + system, all its threads: steadier than latency on a
shared machine), this process's (``client``: the HTTP client, or the raw reads' own client
work) and the graph server's CPU per request, the load average, and, last,
``ratio=<graphql p50 / raw p50 at concurrency 16>``.

``--floor`` adds a third path: the raw side's reads served as JSON by a one-route Starlette app
(bench/floor_server.py: uvicorn, uvloop and httptools as the hub has them; no GraphQL, no
privacy, no audit), posted to with the same aiohttp client; its process's CPU is in the hub
column, and ``floor_ratio=<floor p50 / raw p50 at concurrency 16>`` is printed before the
ratio: what any HTTP API over these reads costs on this machine, the part of the ratio that
is not GraphQL's or the privacy layer's.

The GraphQL side posts with aiohttp and decodes with orjson (``--client httpx``: httpx and its
stdlib JSON decode, as sessions 1-9 measured). The client shares the 2 cores with the hub and
the graph server, and httpx spent ~2.9 ms of CPU per request there, as much as a third of the
hub's; the raw side has no HTTP client to pay for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hub_process import free_port, start_hub, stop_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from graph.repositories import customer360 as repo  # noqa: E402
from graph.store import GraphStore  # noqa: E402
from hub import demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402
from resolvers.analytics import COMPLAINT_WINDOW_DAYS, FLOW_WINDOW_DAYS, iso  # noqa: E402

QUERY = """
query($id: ID!) {
  customer(id: $id) {
    id name gender birthDate idNumber phone email address occupation incomeBand riskProfile
    createdAt consents { marketing dataSharing updatedAt }
    accounts { id type product balance currency openedAt status role coOwners { id name } }
    household { id name members { role customer { id name } } }
    advisor { id name branch { id name city } }
    relatedCustomers { kind customer { id name } }
    transactions(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id amount currency time channel kind accountId } } }
    interactions(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind channel time summary } } }
    totalAssets segment ageBand lifecycleStage daysToNextBirthday churnRisk { score reasons }
  }
}
"""

Call = Callable[[str], Awaitable[None]]
TICK = os.sysconf("SC_CLK_TCK")


def httpx_call(client: httpx.AsyncClient) -> Call:
    """The 360 query for one customer over ``client``; a failed answer ends the bench."""

    async def call(cid: str) -> None:
        response = await client.post("/graphql", json={"query": QUERY, "variables": {"id": cid}})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise SystemExit(f"GraphQL failed for {cid}: {response.text[:300]}")

    return call


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) process ``pid`` has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def hub_pids(pid: int, exclude: int | None = None) -> list[int]:
    """``pid`` and its descendants (``serve --workers N``: the uvicorn parent and its workers),
    without ``exclude`` and its own (the embedded graph server, a child of the first worker)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current == exclude:
            continue
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # it ended meanwhile
            continue
        todo.extend(int(child) for child in children)
    return pids


def tree_cpu(pids: list[int]) -> float:
    """Seconds of CPU of the processes ``pids`` together (those still running)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += process_cpu(pid)
    return total


def thread_cpu(pid: int | list[int]) -> dict[str, float]:
    """Seconds of CPU per thread group of process ``pid`` (or of several processes, summed):
    threads named alike (``c360-graph_3``, ``asyncio_0``) summed under the name without its
    number; each process's main thread (the event loop) is ``loop``."""
    groups: dict[str, float] = {}
    for one in [pid] if isinstance(pid, int) else pid:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            _threads_of(one, groups)
    return groups


def _threads_of(pid: int, groups: dict[str, float]) -> None:
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        group = "loop" if int(task.name) == pid else name.rstrip("0123456789").rstrip("_-")
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / TICK


def graph_pid(data_dir: Path) -> int:
    """The embedded graph server's pid (graph/embedded.py writes it into the data dir)."""
    import json

    return int(json.loads((data_dir / "falkordb" / "falkordb.pid").read_text())["pid"])


def rss_note(data_dir: Path) -> str:
    """This process's peak RSS and the graph server's RSS now (issue 16's 1M run reports both)."""
    import json
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pid = json.loads((data_dir / "falkordb" / "falkordb.pid").read_text())["pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    server = int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1])
    return f"bench peak RSS {peak:.0f} MB, graph server RSS {server / 1024:.0f} MB"


async def raw_360(store: GraphStore, cid: str) -> dict[str, Any]:
    """The reads the GraphQL resolvers make for one 360 view, in the same dependency order."""
    now = datetime.now(UTC)
    profile, accounts, household, advisor, related, activity, txs, ixs = await asyncio.gather(
        repo.customers_by_id(store, [cid]),
        repo.accounts_by_customer(store, [cid]),
        repo.household_by_customer(store, [cid]),
        repo.advisor_by_customer(store, [cid]),
        repo.related_by_customer(store, [cid]),
        repo.activity_by_customer(
            store,
            [cid],
            flow_since=iso(now - timedelta(days=FLOW_WINDOW_DAYS)),
            complaints_since=iso(now - timedelta(days=COMPLAINT_WINDOW_DAYS)),
        ),
        repo.transaction_pages(store, [cid], limit=21, after=None, time_from=None, time_to=None),
        repo.interaction_pages(store, [cid], limit=21, after=None, kind=None),
    )
    others = {o for a in accounts.get(cid, []) for o in a["coOwnerIds"]}
    others |= {r["customerId"] for r in related.get(cid, [])}
    members: dict[str, Any] = {}
    if cid in household:
        members = await repo.households_by_id(store, [household[cid]["id"]])
        others |= {m["customerId"] for h in members.values() for m in h["members"]}
    names = await repo.customers_by_id(store, sorted(others)) if others else {}
    return {
        "profile": profile,
        "advisor": advisor,
        "activity": activity,
        "tx": txs,
        "ix": ixs,
        "names": names,
    }


async def measure(call: Call, ids: list[str], concurrency: int) -> tuple[list[float], float]:
    """Latencies (s) of one call per id, ``concurrency`` at a time, and the wall time."""
    queue = list(ids)
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            cid = queue.pop()
            start = time.perf_counter()
            await call(cid)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    customers: int,
    requests: int,
    data_dir: Path,
    tx_share: float = 1.0,
    http_client: str = "aiohttp",
    workers: int = 1,
    floor: bool = False,
) -> None:
    # Imported here, not at the top: aiohttp loads libstdc++, and regopy loaded after it leaks
    # native memory on every decision (privacy/engines/native.py) in benches that import this
    # module and run the policy engine in process (bench/cprofile_360.py).
    import aiohttp

    seed_demo = partial(demo.seed_demo, tx_share=tx_share)  # that share of the history
    store = await open_store(data_dir)
    proc: subprocess.Popen[bytes] | None = None
    floor_proc: subprocess.Popen[bytes] | None = None
    try:
        print(f"seeding {customers} demo customers into {data_dir} ...", flush=True)
        started = time.perf_counter()
        await seed_demo(store, customers=customers, progress=True)
        seconds = time.perf_counter() - started
        print(f"seeded in {seconds:.1f}s (indexes built); {rss_note(data_dir)}", flush=True)
        # The seed leaves the graph's log (hundreds of MB at 20 000 customers) for the kernel
        # to write back; flushed now, the hub's audit fsyncs do not wait behind it while timed.
        await asyncio.to_thread(os.sync)
        rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
        all_ids = [r["id"] for r in rows]
        rng = random.Random(7)
        ids = [rng.choice(all_ids) for _ in range(requests)]

        if floor:
            floor_port = free_port()
            with (data_dir / "floor.log").open("wb") as out:
                floor_proc = subprocess.Popen(
                    [sys.executable, "-m", "bench.floor_server", "--data-dir", str(data_dir),
                     "--port", str(floor_port)],
                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
        port = free_port()
        proc = start_hub(data_dir, port, *(["--workers", str(workers)] if workers > 1 else []))
        token = issue_token(
            load_or_create_secret(data_dir, "jwt"),
            "bench",
            ["privacy_officer"],
            purpose="compliance",  # the privacy officer reads for compliance only
        )
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        base_url = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=base_url, headers=auth, limits=limits, timeout=60) as client,
            aiohttp.ClientSession(
                base_url, headers=auth, timeout=aiohttp.ClientTimeout(total=60)
            ) as session,
        ):
            await wait_ready(client, proc)
            paths: list[tuple[str, Call]] = []
            if floor_proc is not None:
                floor_url = f"http://127.0.0.1:{floor_port}"
                async with httpx.AsyncClient(base_url=floor_url) as floor_client:
                    await wait_ready(floor_client, floor_proc)

                async def floor_call(cid: str) -> None:
                    async with session.post(
                        f"{floor_url}/360", data=orjson.dumps({"id": cid})
                    ) as response:
                        text = await response.read()
                    if response.status != 200:
                        raise SystemExit(f"the floor server failed for {cid}: {text[:300]!r}")
                    orjson.loads(text)

                paths.append(("floor", floor_call))

            async def graphql_aiohttp(cid: str) -> None:
                payload = orjson.dumps({"query": QUERY, "variables": {"id": cid}})
                async with session.post(
                    "/graphql", data=payload, headers={"Content-Type": "application/json"}
                ) as response:
                    text = await response.read()
                body = orjson.loads(text)
                if response.status != 200 or body.get("errors"):
                    raise SystemExit(f"GraphQL failed for {cid}: {text[:300]!r}")

            graphql = graphql_aiohttp if http_client == "aiohttp" else httpx_call(client)

            async def raw(cid: str) -> None:
                await raw_360(store, cid)

            paths = [("graphql", graphql), *paths, ("raw", raw)]
            # Warm every path (connections, query caches) before timing.
            for cid in ids[:20]:
                for _, call in paths:
                    await call(cid)

            results: dict[tuple[str, int], tuple[list[float], float]] = {}
            # CPU seconds per run of the hub, this process (the HTTP client, or the raw
            # reads' own client work) and the graph server: who the 2 cores went to.
            cpu: dict[tuple[str, int], tuple[float, float, float]] = {}
            server = graph_pid(data_dir)
            # The hub's processes: the server itself, or uvicorn's parent and its workers.
            hub = hub_pids(proc.pid, exclude=server)
            # The server a path's CPU is read from: the hub's, or the floor server's.
            served = {"graphql": hub, "floor": [floor_proc.pid] if floor_proc else []}
            loads: list[float] = [os.getloadavg()[0]]
            threads: dict[str, float] = {}
            processes: dict[int, float] = {}
            for concurrency in (1, 16):
                for name, call in paths:
                    pids = served.get(name, [])
                    before = tree_cpu(pids), time.process_time(), process_cpu(server)
                    per_thread = thread_cpu(hub)
                    per_process = {pid: tree_cpu([pid]) for pid in hub}
                    results[(name, concurrency)] = await measure(call, ids, concurrency)
                    if (name, concurrency) == ("graphql", 16):
                        threads = {
                            group: cpu_s - per_thread.get(group, 0.0)
                            for group, cpu_s in thread_cpu(hub).items()
                        }
                        processes = {
                            pid: tree_cpu([pid]) - cpu_s for pid, cpu_s in per_process.items()
                        }
                    after = tree_cpu(pids), time.process_time(), process_cpu(server)
                    cpu[(name, concurrency)] = (
                        after[0] - before[0],
                        after[1] - before[1],
                        after[2] - before[2],
                    )
                    loads.append(os.getloadavg()[0])

        print(f"\ncustomers={customers} requests={requests} per run; same customers both paths")
        print(f"HTTP client: {http_client}; hub: {workers} worker process(es)")
        print(f"load average (1 min) {min(loads):.1f}-{max(loads):.1f} while measuring")
        print(
            f"{'path':<16}{'conc':>5}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}"
            f"{'hub cpu ms/req':>16}{'client':>8}{'graph':>8}"
        )
        labels = {"graphql": "graphql (HTTP)", "floor": "floor (HTTP)", "raw": "raw cypher"}
        for (name, concurrency), (lat, wall) in results.items():
            hub_s, client_s, graph_s = (c / len(lat) * 1000 for c in cpu[(name, concurrency)])
            hub = f"{hub_s:.2f}" if name in served else "-"
            label = labels[name]
            print(
                f"{label:<16}{concurrency:>5}{pct(lat, 0.5) * 1000:>10.2f}"
                f"{pct(lat, 0.99) * 1000:>10.2f}{len(lat) / wall:>10.1f}{hub:>16}"
                f"{client_s:>8.2f}{graph_s:>8.2f}"
            )
        print(
            "hub cpu ms/req at 16 by thread: "
            + ", ".join(
                f"{group} {cpu_s / requests * 1000:.2f}"
                for group, cpu_s in sorted(threads.items(), key=lambda item: -item[1])
                if cpu_s > 0
            )
        )
        if workers > 1:
            # How the load fell on the processes: uvicorn's workers share one listening
            # socket, and uvloop accepts every connection pending when it wakes, so a burst
            # of new keep-alive connections can all land on one worker (README, "Workers on one
            # machine").
            print(
                "hub cpu ms/req at 16 by process: "
                + ", ".join(
                    f"{pid} {cpu_s / requests * 1000:.2f}"
                    for pid, cpu_s in sorted(processes.items(), key=lambda item: -item[1])
                )
            )
        g50 = statistics.median(results[("graphql", 16)][0])
        r50 = statistics.median(results[("raw", 16)][0])
        if ("floor", 16) in results:
            f50 = statistics.median(results[("floor", 16)][0])
            print(f"floor_ratio={f50 / r50:.2f}")
        print(f"ratio={g50 / r50:.2f}")
    finally:
        stop_hub(floor_proc)
        stop_hub(proc)
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="~500 customers, under a minute")
    parser.add_argument("--requests", type=int, default=None, help="360 queries per run")
    parser.add_argument(
        "--tx-share",
        type=float,
        default=1.0,
        help="share of the demo's transaction history (hub.demo.build_book); 0.1 at 1M customers",
    )
    parser.add_argument(
        "--client",
        choices=("aiohttp", "httpx"),
        default="aiohttp",
        help="the GraphQL side's HTTP client (httpx: sessions 1-9's figures; its CPU per request"
        " was ~2.9 ms, taken from the same 2 cores as the hub's and the graph server's)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="`c360 serve --workers N` (N > 1: N uvicorn worker processes on one port; hub CPU"
        " is summed over them, the loop figure over their event loops)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also the raw reads behind a bare HTTP server (bench/floor_server.py): the ratio no"
        " HTTP API over them reaches on this machine",
    )
    parser.add_argument(
        "--tmp-prefix", default="c360b-", help="the temp data dir's name prefix (under /tmp)"
    )
    args = parser.parse_args()
    customers = 500 if args.quick else args.customers
    requests = args.requests or (200 if args.quick else 1000)
    # Short path: the embedded FalkorDB's unix socket must fit in 108 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix=args.tmp_prefix, dir="/tmp"))
    print(f"customers={customers} tx_share={args.tx_share}", flush=True)
    try:
        asyncio.run(
            run(
                customers, requests, data_dir, args.tx_share, args.client, args.workers,
                args.floor,
            )
        )  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
