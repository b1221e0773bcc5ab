"""Where a CRM import's time goes: wall, this process's CPU and the graph server's CPU per row,
for transactions plain, through a mapping and through SQL, in one process (no CLI start-up).

    python bench/profile_import.py [--transactions 50000] [--batch 5000] [--profile plain]

Generates the same files as bench/import_rows.py (customers and accounts are imported first,
untimed), then imports the transactions three ways (deleting them in between, so each run
inserts the same rows) and prints, per path: rows/s, µs of import-process CPU per row, µs of
graph-server CPU per row. ``--profile PATH`` runs that path under cProfile as well and prints
its top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_rows import CODES, SQL, delete_transactions, generate

from graph.connect import store_session
from graph.embedded import EmbeddedFalkorDB
from hub.services import protect_store
from hub.settings import Settings
from ingest.crm import import_file
from ingest.mapping import ColumnMapping

TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def measure(
    name: str, rows: int, pid: int, run: Callable[[], Awaitable[object]], profile: bool
) -> None:
    profiler = cProfile.Profile() if profile else None
    s0, c0, t0 = server_cpu(pid), time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    await run()
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - t0
    client, server = time.process_time() - c0, server_cpu(pid) - s0
    print(f"{name:<8} {rows / wall:>9,.0f} rows/s  wall {wall:6.2f}s  "
          f"import CPU {client / rows * 1e6:5.1f} µs/row  server CPU {server / rows * 1e6:5.1f} "
          f"µs/row  load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--profile", choices=["customers", "plain", "mapping", "sql"], default=None)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="c360p-", dir="/tmp") as tmp:
        folder = Path(tmp)
        generate(folder, opts.customers, opts.transactions)
        data = folder / "d"
        os.environ["C360_DATA_DIR"] = str(data)
        async with store_session(data) as raw:
            store = protect_store(raw, Settings())
            pid = EmbeddedFalkorDB(data).server_pid()
            assert pid is not None
            batch = opts.batch
            await measure("customers", opts.customers, pid, lambda: import_file(
                store, "customers", folder / "customers.csv", batch_size=batch),
                opts.profile == "customers")  # fmt: skip
            await import_file(store, "accounts", folder / "accounts.csv", batch_size=batch)
            mapping = ColumnMapping.load(folder / "foreign.toml")
            cases = " ".join(f"WHEN {code} THEN '{kind}'" for kind, code in CODES.items())
            query = SQL.format(cases=cases, file=folder / "foreign.csv")
            runs: dict[str, Callable[[], Awaitable[object]]] = {
                "plain": lambda: import_file(
                    store, "transactions", folder / "transactions.csv", batch_size=batch),
                "mapping": lambda: import_file(
                    store, "transactions", folder / "foreign.csv", mapping, batch_size=batch),
                "sql": lambda: import_file(
                    store, "transactions", None, sql=query, batch_size=batch),
            }  # fmt: skip
            for name, run in runs.items():
                await measure(name, opts.transactions, pid, run, opts.profile == name)
                await delete_transactions(raw)


if __name__ == "__main__":
    asyncio.run(main())
