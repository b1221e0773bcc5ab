"""Restart time and crash recovery of the embedded graph, measured side by side in one run.

    python bench/restart.py [--transactions 1000000] [--accounts 50000] [--dir DIR]
                            [--fsync-rows 100000] [--load-seconds 20] [--port 8190]

1. `c360 import accounts` + `c360 import transactions` (the real CLI, which compacts after the
   job) into a fresh data dir: seconds and rows/s.
2. Restart: a cold start of the graph server alone, and `c360 serve` until /readyz is 200.
3. kill -9 of the graph child under GraphQL writes: redis-servers for the data dir afterwards,
   seconds until a write is acknowledged again and until /readyz is 200, acknowledged writes
   missing afterwards (must be 0).
4. What `appendfsync always` costs: the same import with `always` and `everysec`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from graph.connect import open_store
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from ingest.crm import import_file
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

C360 = str(Path(sys.executable).parent / "c360")
UPSERT = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"


def write_csvs(folder: Path, accounts: int, transactions: int) -> tuple[Path, Path]:
    a_path, t_path = folder / "accounts.csv", folder / "transactions.csv"
    kinds = ["DEPOSIT", "WITHDRAWAL", "PAYMENT", "TRANSFER_IN", "TRANSFER_OUT", "FEE"]
    with a_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "type", "balance", "currency"])
        w.writerows([f"A{i}", "SAVINGS", f"{1000 + i % 9000}.00", "CNY"] for i in range(accounts))
    with t_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "accountId", "amount", "currency", "time", "channel", "kind"])
        for i in range(transactions):
            day, sec = 1 + i % 28, i % 86400
            when = f"2025-03-{day:02d}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"
            w.writerow(
                [f"T{i}", f"A{i % accounts}", f"{i % 997 + 1}.50", "CNY", when, "MOBILE",
                 kinds[i % len(kinds)]]
            )  # fmt: skip
    return a_path, t_path


def run_cli(data_dir: Path, *args: str) -> float:
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""}
    began = time.monotonic()
    subprocess.run([C360, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - began


def aof_sizes(data_dir: Path) -> tuple[float, float]:
    aof = data_dir / "falkordb" / "appendonlydir"
    base = sum(p.stat().st_size for p in aof.glob("*.base.*"))
    incr = sum(p.stat().st_size for p in aof.glob("*.incr.aof"))
    return base / 1e6, incr / 1e6


def redis_servers(sock: Path) -> list[str]:
    """`ps -eo pid,args` lines naming this socket."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if str(sock) in line and "redis" in line]


def cold_start_seconds(data_dir: Path) -> float:
    embedded = EmbeddedFalkorDB(data_dir)
    began = time.monotonic()
    embedded.ensure()
    seconds = time.monotonic() - began
    embedded.stop()
    return seconds


class Hub:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""}
        self.log = (data_dir.parent / "hub.log").open("ab")
        self.proc = subprocess.Popen(
            [C360, "serve", "--port", str(port)], env=env, stdout=self.log, stderr=self.log
        )

    def wait_ready(self, timeout_s: float = 300) -> float:
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise SystemExit("the hub did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=120)
        self.log.close()


def kill_under_load(data_dir: Path, port: int, load_s: float, writers: int = 8) -> None:
    hub = Hub(data_dir, port)
    print(f"hub (c360 serve) ready in {hub.wait_ready():.2f}s")
    token = issue_token(
        load_or_create_secret(data_dir, "jwt"), "bench", ["service_agent"], purpose="service"
    )
    acked: list[tuple[float, str]] = []  # (sent at, id) of each acknowledged write
    errors: dict[str, int] = {}
    stop = threading.Event()

    def write(name: str) -> None:
        n = 0
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                cid = f"{name}-{n}"
                n += 1
                sent = time.monotonic()
                try:
                    r = client.post(
                        hub.url + "/graphql",
                        json={"query": UPSERT, "variables": {"input": {"id": cid, "name": "压"}}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    body = r.json() if r.status_code == 200 else {"errors": [{}]}
                except (httpx.HTTPError, ValueError):
                    body = {"errors": [{"extensions": {"code": "connection"}}]}
                if body.get("errors"):
                    code = str(body["errors"][0].get("extensions", {}).get("code", "http"))
                    errors[code] = errors.get(code, 0) + 1
                    time.sleep(0.05)
                else:
                    acked.append((sent, cid))

    threads = [threading.Thread(target=write, args=(f"k{i}",)) for i in range(writers)]
    for t in threads:
        t.start()
    time.sleep(load_s / 2)
    sock = data_dir / "falkordb" / "falkordb.sock"
    victim = EmbeddedFalkorDB(data_dir).server_pid()
    assert victim is not None
    before = len(acked)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    print(f"kill -9 of graph server pid {victim} after {before} acknowledged writes")
    ready_s = hub.wait_ready()
    # The first write sent after the kill and acknowledged, from when it was sent.
    while not any(at > killed for at, _ in acked[before:]) and time.monotonic() - killed < 300:
        time.sleep(0.01)
    first_ack = min((at for at, _ in acked[before:] if at > killed), default=float("nan"))
    answered = time.monotonic()
    time.sleep(load_s / 2)
    stop.set()
    for t in threads:
        t.join()
    servers = redis_servers(sock)
    print(f"serving again: /readyz 200 after {ready_s:.2f}s; the first write sent after the "
          f"kill ({first_ack - killed:.2f}s after it) was acknowledged by "
          f"{answered - killed:.2f}s")  # fmt: skip
    print(f"redis-servers for {sock} afterwards ({len(servers)}):")
    for line in servers:
        print("   ", line[:160])
    print(f"writes acknowledged {len(acked)}, errors by code {errors}")
    hub.stop()
    lost = asyncio.run(missing(data_dir, [cid for _, cid in acked]))
    print(f"acknowledged writes lost: {lost}")


async def missing(data_dir: Path, ids: list[str]) -> int:
    store = await open_store(data_dir)
    try:
        found = 0
        for i in range(0, len(ids), 5000):
            rows = await store.read(
                "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN count(c) AS n",
                {"ids": ids[i : i + 5000]},
            )
            found += rows[0]["n"]
    finally:
        await store.close()
    return len(ids) - found


async def import_rows_per_s(folder: Path, fsync: str, a_path: Path, t_path: Path) -> float:
    data_dir = folder / f"fsync-{fsync}"
    store = await asyncio.to_thread(
        FalkorDBStore.embedded, EmbeddedFalkorDB(data_dir, appendfsync=fsync)
    )
    try:
        await store.setup_schema()
        ckpt = data_dir / "checkpoints.json"
        await import_file(store, "accounts", a_path, checkpoint_path=ckpt)
        began = time.monotonic()
        summary = await import_file(store, "transactions", t_path, checkpoint_path=ckpt)
        seconds = time.monotonic() - began
    finally:
        await store.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return summary.imported / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--fsync-rows", type=int, default=100_000)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the graph already imported in --dir/data"
    )
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="c360b-", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = folder / "data"
    if not args.reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
        a_path, t_path = write_csvs(folder, args.accounts, args.transactions)
        print(f"data: {args.accounts:,} accounts, {args.transactions:,} transactions in {folder}")
        a_s = run_cli(data_dir, "import", "accounts", str(a_path), "--no-progress")
        t_s = run_cli(data_dir, "import", "transactions", str(t_path), "--no-progress")
        print(f"c360 import accounts {a_s:.1f}s; c360 import transactions {t_s:.1f}s "
              f"({args.transactions / t_s:,.0f} rows/s incl. compaction)")  # fmt: skip
    base, incr = aof_sizes(data_dir)
    print(f"graph files: snapshot {base:.1f} MB, log {incr:.2f} MB")
    starts = [cold_start_seconds(data_dir) for _ in range(3)]
    print(f"restart, graph server alone: {', '.join(f'{s:.2f}s' for s in starts)} "
          f"(median {sorted(starts)[1]:.2f}s)")  # fmt: skip
    hub = Hub(data_dir, args.port)
    print(f"restart, c360 serve until /readyz 200: {hub.wait_ready():.2f}s")
    hub.stop()

    kill_under_load(data_dir, args.port, args.load_seconds)

    if args.fsync_rows:
        a_small, t_small = write_csvs(folder, min(args.accounts, 10_000), args.fsync_rows)
        # Alternated, two rounds each: the machine's load drifts during a run.
        rates: dict[str, list[float]] = {"always": [], "everysec": []}
        for mode in ("always", "everysec", "everysec", "always"):
            rates[mode].append(asyncio.run(import_rows_per_s(folder, mode, a_small, t_small)))
        always, everysec = (sum(rates[m]) / 2 for m in ("always", "everysec"))
        ratio = always / everysec
        print(f"import of {args.fsync_rows:,} transactions: appendfsync always {always:,.0f} "
              f"rows/s, everysec {everysec:,.0f} rows/s, ratio {ratio:.2f}")  # fmt: skip
    if args.dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
