"""Where the hub's time goes on the 360 query: py-spy over `c360 serve` under load.

    pip install py-spy                                  # a dev tool, not a dependency
    python bench/profile_360.py --quick                 # 500 customers, 20 s of samples
    python bench/profile_360.py --customers 20000 --seconds 60
    python bench/profile_360.py --quick --gil           # only samples holding the GIL

Seeds hub.demo into a temp data dir, starts the hub under ``py-spy record --format raw``
(collapsed stacks, idle frames dropped), sends bench/customer360.py's 360 query at concurrency
16 until py-spy stops, then prints the top frames by self time and by inclusive time, grouped
as ``file:function``. The raw stacks stay in ``--out`` for a flame graph
(``py-spy record --format flamegraph`` or speedscope).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import QUERY  # noqa: E402
from bench.hub_process import free_port, start_hub, wait_ready  # noqa: E402
from graph.connect import open_store  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


def _frame(raw: str) -> str:
    # py-spy raw frames read "function (path/to/file.py:line)": keep file:function.
    name, _, where = raw.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    marker = "site-packages/"
    short = path.split(marker, 1)[1] if marker in path else path.replace(str(ROOT) + "/", "")
    return f"{short}:{name}"


# Leaf frames of threads waiting, which py-spy can count as busy (C calls that block).
IDLE = {
    "concurrent/futures/thread.py:_worker",  # the to_thread pool's queue.get
    "subprocess.py:Popen._try_wait",  # the embedded graph's watcher in waitpid
    "selectors.py:EpollSelector.select",  # the event loop with nothing to do
    # The store's read threads waiting for the graph server's reply (blocking recv).
    "redis/_parsers/hiredis.py:_HiredisParser.read_from_socket",
    "threading.py:Condition.wait",  # the audit writer thread waiting for records
}


def top_frames(collapsed: Path, n: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(self, inclusive) shares of the busy samples per frame, the ``n`` largest of each."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = [_frame(f) for f in stack.split(";")[1:]]  # [0] is the thread
        if not frames or frames[-1] in IDLE:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    share = 100.0 / max(total, 1)
    return (
        [(f, c * share) for f, c in own.most_common(n)],
        [(f, c * share) for f, c in inclusive.most_common(n)],
    )


# Self time grouped the way the issue reports it.
GROUPS = (
    ("graphql-core", ("graphql/",)),
    ("strawberry", ("strawberry/",)),
    ("graph client (redis, hiredis, falkordb)", ("redis/", "hiredis", "falkordb/", "graph/")),
    ("http (uvicorn, h11, starlette)", ("uvicorn/", "h11/", "starlette/", "hub/")),
    ("asyncio", ("asyncio/", "selectors.py", "contextlib.py")),
    ("privacy (policy, masking, audit)", ("privacy/", "regopy/", "cryptography/", "jwt/")),
    ("our resolvers and schema", ("resolvers/", "schema/")),
)


def by_group(collapsed: Path) -> list[tuple[str, float]]:
    """Self time per group of packages, as shares of the busy samples."""
    own, _ = top_frames(collapsed, 10_000)
    shares: dict[str, float] = {}
    for frame, share in own:
        group = next((g for g, prefixes in GROUPS if frame.startswith(prefixes)), "other")
        shares[group] = shares.get(group, 0.0) + share
    return sorted(shares.items(), key=lambda item: -item[1])


async def run(customers: int, seconds: int, out: Path, data_dir: Path, gil: bool = False) -> None:
    store = await open_store(data_dir)
    try:
        print(f"seeding {customers} demo customers ...", flush=True)
        await seed_demo(store, customers=customers, progress=False)
        rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
        ids = [r["id"] for r in rows]
    finally:
        await store.close()
    port = free_port()
    spy = py_spy()
    proc = start_hub(data_dir, port)
    token = issue_token(
        load_or_create_secret(data_dir, "jwt"),
        "bench",
        ["privacy_officer"],
        purpose="compliance",
    )
    rng = random.Random(7)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client:
            await wait_ready(client, proc)
            # Attached once the hub is ready, so start-up imports stay out of the samples.
            record = [spy, "record", "--format", "raw", "--duration", str(seconds)]
            if gil:  # only the thread holding the GIL: Python's CPU, not waits for the GIL
                record.append("--gil")
            spying = subprocess.Popen([*record, "-o", str(out), "--pid", str(proc.pid)])

            async def worker() -> None:
                while spying.poll() is None:
                    variables = {"id": rng.choice(ids)}
                    try:
                        await client.post("/graphql", json={"query": QUERY, "variables": variables})
                    except httpx.TransportError:
                        return

            await asyncio.gather(*(worker() for _ in range(16)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def py_spy() -> str:
    """The py-spy executable (on PATH or beside this Python)."""
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy (a dev tool, not a dep)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="500 customers, 20 s")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=Path("/tmp/c360-profile.txt"))
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL (the loop thread waiting for it while a "
        "query thread parses a reply is otherwise counted busy where it waits)",
    )
    args = parser.parse_args()
    py_spy()  # before seeding, not after
    customers = 500 if args.quick else args.customers
    seconds = args.seconds or (20 if args.quick else 60)
    data_dir = Path(tempfile.mkdtemp(prefix="c360p-", dir="/tmp"))
    try:
        asyncio.run(run(customers, seconds, args.out, data_dir, args.gil))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    own, inclusive = top_frames(args.out, args.top)
    print(f"\nself time (% of samples), load {os.getloadavg()[0]:.1f}")
    for frame, share in own:
        print(f"{share:6.1f}%  {frame}")
    print("\nself time by package")
    for group, share in by_group(args.out):
        print(f"{share:6.1f}%  {group}")
    print("\ninclusive time")
    for frame, share in inclusive:
        print(f"{share:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
