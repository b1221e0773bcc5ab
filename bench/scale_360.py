"""The 360 query on a large book against a small one, side by side (issue 16: the p99 at
1 000 000 customers within 2x of the 20 000-customer figure).

    python bench/scale_360.py --large 1000000 --small 20000 --tx-share 0.05 --requests 500

Seeds both demo books (same ``--tx-share``) into two private temp data dirs (timed, with the
seed process's peak RSS and each graph server's RSS), starts a hub (`c360 serve`) on each,
then measures the full 360 query through HTTP (bench/customer360.py's query, token and
checks) in alternating rounds: small then large, at concurrency 1 and 16, ``--rounds`` times,
so both books see the same load on a shared machine. Prints p50/p99 and req/s per book and
concurrency, the hubs' CPU per request, and last ``p99_ratio_c1=`` / ``p99_ratio_c16=`` (large
over small).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import httpx_call, measure, pct, process_cpu  # noqa: E402
from bench.hub_process import free_port, start_hub, stop_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from graph.store import GraphStore  # noqa: E402
from hub import demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


def server_rss_mb(data_dir: Path) -> float:
    pid = json.loads((data_dir / "falkordb" / "falkordb.pid").read_text())["pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]) / 1024


@dataclass
class Book:
    customers: int
    data_dir: Path
    store: GraphStore | None = None
    seed_s: float = 0.0
    peak_rss_mb: float = 0.0
    server_rss_mb: float = 0.0
    ids: list[str] = field(default_factory=list)
    hub: subprocess.Popen[bytes] | None = None
    port: int = 0
    latencies: dict[int, list[float]] = field(default_factory=dict)
    walls: dict[int, float] = field(default_factory=dict)
    hub_cpu: dict[int, float] = field(default_factory=dict)


async def seed(book: Book, tx_share: float, requests: int) -> None:
    book.store = await open_store(book.data_dir)
    print(f"seeding {book.customers} customers into {book.data_dir} ...", flush=True)
    started = time.perf_counter()
    await demo.seed_demo(book.store, customers=book.customers, progress=False, tx_share=tx_share)
    book.seed_s = time.perf_counter() - started
    book.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    book.server_rss_mb = server_rss_mb(book.data_dir)
    print(
        f"  seeded in {book.seed_s:.1f}s (indexes built); bench peak RSS {book.peak_rss_mb:.0f}"
        f" MB, graph server RSS {book.server_rss_mb:.0f} MB",
        flush=True,
    )
    await asyncio.to_thread(subprocess.run, ["sync"], check=False)
    rows = await book.store.read("MATCH (c:Customer) RETURN c.id AS id")
    all_ids = sorted(r["id"] for r in rows)
    rng = random.Random(7)
    book.ids = [rng.choice(all_ids) for _ in range(requests)]


async def run(args: argparse.Namespace, books: list[Book]) -> None:
    for book in books:
        await seed(book, args.tx_share, args.requests)
    clients: list[httpx.AsyncClient] = []
    try:
        for book in books:
            # One hub at a time: free_port() hands out the same port until a hub binds it.
            secret = load_or_create_secret(book.data_dir, "jwt")
            token = issue_token(secret, "bench", ["privacy_officer"], purpose="compliance")
            book.port = free_port()
            book.hub = start_hub(book.data_dir, book.port)
            client = httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{book.port}",
                headers={"Authorization": f"Bearer {token}"},
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
                timeout=120,
            )
            clients.append(client)
            await wait_ready(client, book.hub, timeout_s=1800)

        calls = [httpx_call(c) for c in clients]
        for book, call in zip(books, calls, strict=True):
            for cid in book.ids[:20]:  # warm connections and caches
                await call(cid)
        for round_ in range(args.rounds):
            for concurrency in (1, 16):
                for book, call in zip(books, calls, strict=True):
                    assert book.hub is not None
                    before = process_cpu(book.hub.pid)
                    lat, wall = await measure(call, book.ids, concurrency)
                    book.hub_cpu[concurrency] = book.hub_cpu.get(concurrency, 0.0) + (
                        process_cpu(book.hub.pid) - before
                    )
                    book.latencies.setdefault(concurrency, []).extend(lat)
                    book.walls[concurrency] = book.walls.get(concurrency, 0.0) + wall
            print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
    finally:
        for client in clients:
            await client.aclose()
        for book in books:
            stop_hub(book.hub)
            if book.store is not None:
                await book.store.close()


def report(books: list[Book], args: argparse.Namespace) -> None:
    print(f"\ntx_share={args.tx_share} requests={args.requests} x {args.rounds} rounds per book")
    print(
        f"{'customers':>10}{'seed s':>9}{'peak RSS':>10}{'graph RSS':>11}{'conc':>6}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'req/s':>8}{'hub cpu ms/req':>16}"
    )
    for book in books:
        for concurrency, lat in book.latencies.items():
            print(
                f"{book.customers:>10}{book.seed_s:>9.1f}{book.peak_rss_mb:>10.0f}"
                f"{book.server_rss_mb:>11.0f}{concurrency:>6}{pct(lat, 0.5) * 1000:>9.2f}"
                f"{pct(lat, 0.99) * 1000:>9.2f}{len(lat) / book.walls[concurrency]:>8.1f}"
                f"{book.hub_cpu[concurrency] / len(lat) * 1000:>16.2f}"
            )
    small, large = books
    for concurrency in (1, 16):
        ratio = pct(large.latencies[concurrency], 0.99) / pct(small.latencies[concurrency], 0.99)
        print(f"p99_ratio_c{concurrency}={ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--tx-share", type=float, default=0.05)
    parser.add_argument("--requests", type=int, default=500, help="360 queries per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    dirs = [Path(tempfile.mkdtemp(prefix=f"c360s{n}-", dir="/tmp")) for n in (1, 2)]
    books = [Book(args.small, dirs[0]), Book(args.large, dirs[1])]
    try:
        asyncio.run(run(args, books))
        report(books, args)
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
