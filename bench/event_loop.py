"""Does a large legitimate query hold the hub's event loop? /healthz latency while it runs.

    python bench/event_loop.py            # `c360 serve --demo` (500 customers), 5 rounds

Starts `c360 serve --demo` on a free port, then sends a large query that stays within the
cost limit (``--aliases`` x customers(first: 100) x transactions(first: 5), as the privacy
officer) ``--rounds`` times while another thread probes /healthz every 5 ms. Prints the query's
time and the probes' median, p90 and max; the last line is ``healthz_max_ms=``. A loop held by
one request for X ms shows as a probe of about X ms.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hub_process import free_port, start_hub, wait_ready  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402


def large_query(aliases: int, customers: int = 100, transactions: int = 5) -> str:
    """``aliases`` copies of a customer page with each customer's latest transactions."""
    one = (
        f"customers(first: {customers}) {{ totalCount edges {{ node {{ id name phone riskProfile "
        f"transactions(first: {transactions}) {{ edges {{ node {{ id amount time }} }} }} }} }} }}"
    )
    return "{ " + " ".join(f"a{i}: {one}" for i in range(aliases)) + " }"


def probe(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            out.append(time.perf_counter() - started)
            time.sleep(0.005)


async def run(
    data_dir: Path, aliases: int, rounds: int, spy: Path | None, keep_log: Path | None
) -> None:
    port = free_port()
    proc = start_hub(data_dir, port, "--demo")
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            await wait_ready(client, proc)
        token = issue_token(
            load_or_create_secret(data_dir, "jwt"), "bench", ["privacy_officer"],
            purpose="compliance",
        )  # fmt: skip
        query = large_query(aliases)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
            body = client.post("/graphql", json={"query": query}).json()  # warm-up
            if body.get("errors"):
                raise SystemExit(f"the query failed: {str(body['errors'])[:400]}")
            if spy is not None:  # the loop thread's stacks while the rounds run
                record = [shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))]
                record += [
                    "record",
                    "--format",
                    "speedscope" if spy.suffix == ".json" else "raw",
                    "--threads",
                    "--nonblocking",
                ]
                subprocess.Popen([*record, "-o", str(spy), "--pid", str(proc.pid)])
                time.sleep(1.0)
            stop, probes = threading.Event(), []
            prober = threading.Thread(target=probe, args=(url, stop, probes))
            prober.start()
            took = []
            try:
                for _ in range(rounds):
                    started = time.perf_counter()
                    client.post("/graphql", json={"query": query}).raise_for_status()
                    took.append(time.perf_counter() - started)
            finally:
                stop.set()
                prober.join()
        ms = sorted(p * 1000 for p in probes)
        print(f"query: {aliases} aliases x customers(first: 100) x transactions(first: 5)")
        print(f"query time p50 {statistics.median(took) * 1000:.0f} ms over {rounds} rounds")
        print(
            f"healthz probes {len(ms)}: p50 {statistics.median(ms):.1f} ms, "
            f"p90 {ms[int(0.9 * len(ms))]:.1f} ms, max {ms[-1]:.1f} ms"
        )
        print(f"healthz_max_ms={ms[-1]:.0f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if keep_log is not None:
            shutil.copy(data_dir / "hub.log", keep_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aliases", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spy", type=Path, default=None, help="py-spy raw stacks to this file")
    parser.add_argument("--log", type=Path, default=None, help="keep the hub's log here")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="c360e-", dir="/tmp"))
    try:
        asyncio.run(run(data_dir, args.aliases, args.rounds, args.spy, args.log))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
