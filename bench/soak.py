"""Soak: N clients of mixed traffic for D minutes against a hub this script starts itself.

    python bench/soak.py                          # 16 clients, 10 minutes
    python bench/soak.py --clients 4 --minutes 1  # a quick look

A fresh data dir with the demo data (``c360 serve --demo`` on a free loopback port, or
``--port``). Traffic: 360 reads by four roles (privacy officer, advisor, service agent,
marketing analyst), searches, and writes (upsertCustomer, logInteraction by a service agent).
Hub and graph-server RSS are sampled every few seconds; growth is the least-squares slope
after a warm-up (a fifth of the run, at least 30 s). At the end the hub is stopped, every
acknowledged write is looked up in the graph, and ``c360 audit verify`` runs. Prints requests,
errors by code, p50/p99, RSS at start and end, growth per minute; the last line is
``rss_growth_mb_per_min=<hub growth>``. Exit 1 when an error other than the policy's
(FORBIDDEN*) occurred, a write is missing, or the audit chain does not verify.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


import hub  # noqa: E402, F401  (loads regopy first: see privacy/engines/native.py)
from bench.hub_process import free_port, start_hub, wait_ready  # noqa: E402
from graph.embedded import EmbeddedFalkorDB  # noqa: E402
from graph.falkordb import FalkorDBStore  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402

C360 = str(Path(sys.executable).with_name("c360"))
POLICY_CODES = {"FORBIDDEN", "FORBIDDEN_FILTER"}  # the policy's own answers, not failures
SAMPLE_EVERY_S = 5.0

READ_360 = """
query($id: ID!) {
  customer(id: $id) {
    id name phone idNumber email birthDate riskProfile consents { marketing dataSharing }
    accounts { id type balance coOwners { id name } }
    household { id members { role customer { id name } } }
    advisor { id name branch { id city } }
    transactions(first: 10) { totalCount edges { node { id amount time } } }
    interactions(first: 10) { totalCount edges { node { id kind time } } }
    totalAssets segment churnRisk { score }
  }
}"""
SEARCH = """query($q: String!) {
  customers(search: $q, first: 20) { totalCount edges { node { id name phone } } }
}"""
UPSERT = """mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"""
LOG = """mutation($input: InteractionInput!) { logInteraction(input: $input) { id } }"""
PAGE = """query($after: String) {
  customers(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { id advisor { id } } }
  }
}"""
SEARCH_TERMS = ["张", "王", "李", "刘", "陈", "杨", "138", "赵"]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    customers: list[str] = field(default_factory=list)  # acknowledged upserts
    interactions: list[str] = field(default_factory=list)  # acknowledged logInteraction ids

    def note(self, kind: str, seconds: float, body: dict[str, Any] | None, status: int) -> None:
        self.requests += 1
        self.latencies.setdefault(kind, []).append(seconds)
        if status != 200 or body is None:
            self.errors[f"HTTP_{status}"] += 1
            return
        for error in body.get("errors") or []:
            self.errors[str((error.get("extensions") or {}).get("code", "NO_CODE"))] += 1


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def graph_pid(data_dir: Path) -> int | None:
    return EmbeddedFalkorDB(data_dir).server_pid()


def slope_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(samples) < 2:
        return float("nan")
    xs, ys = [t for t, _ in samples], [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def post(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]):
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json() if response.headers.get("content-type", "").startswith("app") else None
    return response.status_code, body


async def customer_book(client: httpx.AsyncClient, token: str) -> list[tuple[str, str | None]]:
    """(customer id, advisor id) for every customer, read as the privacy officer."""
    out: list[tuple[str, str | None]] = []
    after: str | None = None
    for _ in range(10_000):
        _, body = await post(client, token, PAGE, {"after": after})
        page = (body or {}).get("data", {}).get("customers")
        if not page:
            raise SystemExit(f"could not list customers: {body}")
        for edge in page["edges"]:
            advisor = edge["node"].get("advisor") or {}
            out.append((edge["node"]["id"], advisor.get("id")))
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]
    return out


async def client_loop(
    n: int,
    client: httpx.AsyncClient,
    tokens: dict[str, str],
    book: list[tuple[str, str | None]],
    advisor_tokens: dict[str, str],
    deadline: float,
    tally: Tally,
) -> None:
    rng = random.Random(n)
    written = 0
    while time.monotonic() < deadline:
        pick = rng.random()
        cid, advisor = rng.choice(book)
        if pick < 0.55:
            role = rng.choice(["privacy_officer", "advisor", "service_agent", "marketing_analyst"])
            token = (
                advisor_tokens.get(advisor or "", tokens["advisor"])
                if role == "advisor"
                else tokens[role]
            )
            kind, query, variables = f"360:{role}", READ_360, {"id": cid}
        elif pick < 0.8:
            role = rng.choice(["privacy_officer", "service_agent"])
            token = tokens[role]
            kind, query, variables = f"search:{role}", SEARCH, {"q": rng.choice(SEARCH_TERMS)}
        elif pick < 0.9:
            written += 1
            new_id = f"SOAK-{n:02d}-{written:06d}"
            token = tokens["service_agent"]
            data = {"id": new_id, "name": "测试客户", "phone": f"138{rng.randrange(10**8):08d}",
                    "riskProfile": "稳健", "advisorId": advisor}  # fmt: skip
            kind, query, variables = "upsertCustomer", UPSERT, {"input": data}
        else:
            token = tokens["service_agent"]
            data = {"customerId": cid, "kind": "INQUIRY", "channel": "PHONE", "summary": "soak"}
            kind, query, variables = "logInteraction", LOG, {"input": data}
        started = time.perf_counter()
        try:
            status, body = await post(client, token, query, variables)
        except httpx.HTTPError as exc:
            tally.note(kind, time.perf_counter() - started, None, 0)
            tally.errors[type(exc).__name__] += 1
            continue
        tally.note(kind, time.perf_counter() - started, body, status)
        data_out = (body or {}).get("data") or {}
        if kind == "upsertCustomer" and data_out.get("upsertCustomer"):
            tally.customers.append(data_out["upsertCustomer"]["id"])
        if kind == "logInteraction" and data_out.get("logInteraction"):
            tally.interactions.append(data_out["logInteraction"]["id"])


async def sampler(
    hub_pid: int,
    data_dir: Path,
    started: float,
    deadline: float,
    out: list[tuple[float, float, float]],
) -> None:
    while time.monotonic() < deadline:
        out.append((time.monotonic() - started, rss_mb(hub_pid), rss_mb(graph_pid(data_dir))))
        await asyncio.sleep(SAMPLE_EVERY_S)
    out.append((time.monotonic() - started, rss_mb(hub_pid), rss_mb(graph_pid(data_dir))))


async def missing_writes(data_dir: Path, tally: Tally) -> tuple[int, int]:
    """(customers missing, interactions missing) in the graph, asked of the hub's own graph
    server over its socket (a client only: the hub stays the server's owner)."""
    sock = data_dir / "falkordb" / "falkordb.sock"
    store = FalkorDBStore.from_url(f"unix://{sock}", "c360", pool_size=2)
    try:
        customers = await store.read(
            "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN count(c) AS n",
            {"ids": tally.customers},
        )
        interactions = await store.read(
            "UNWIND $ids AS id MATCH (i:Interaction {id: id}) RETURN count(i) AS n",
            {"ids": tally.interactions},
        )
    finally:
        await store.close()
    return (
        len(tally.customers) - int(customers[0]["n"]),
        len(tally.interactions) - int(interactions[0]["n"]),
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def run(clients: int, minutes: float, port: int, data_dir: Path) -> int:
    log_path = data_dir.parent / f"{data_dir.name}-hub.log"
    proc = start_hub(data_dir, port, "--demo", log=log_path, env={"C360_OPA_URL": ""})
    tally = Tally()
    samples: list[tuple[float, float, float]] = []
    try:
        limits = httpx.Limits(max_connections=clients + 2)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
        ) as client:
            print(f"starting the hub on 127.0.0.1:{port}, data dir {data_dir} ...", flush=True)
            await wait_ready(client, proc)
            key = load_or_create_secret(data_dir, "jwt")
            roles = {
                "privacy_officer": ("po1", "compliance"),
                "service_agent": ("sa1", "service"),
                "marketing_analyst": ("mk1", "marketing"),
                "advisor": ("ADV0001", "service"),
            }
            tokens = {
                role: issue_token(key, sub, [role], purpose=purpose)
                for role, (sub, purpose) in roles.items()
            }
            book = await customer_book(client, tokens["privacy_officer"])
            advisor_tokens = {
                adv: issue_token(key, adv, ["advisor"], purpose="service")
                for adv in {a for _, a in book if a}
            }
            print(f"{len(book)} customers; {clients} clients for {minutes} min", flush=True)
            started = time.monotonic()
            deadline = started + minutes * 60
            await asyncio.gather(
                sampler(proc.pid, data_dir, started, deadline, samples),
                *(
                    client_loop(n, client, tokens, book, advisor_tokens, deadline, tally)
                    for n in range(clients)
                ),
            )
            elapsed = time.monotonic() - started
        missing_customers, missing_interactions = await missing_writes(data_dir, tally)
    finally:
        stop(proc)
    verify = subprocess.run(
        [C360, "audit", "verify"],
        env=os.environ | {"C360_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    warm = max(30.0, elapsed / 5)
    after_warm = [(t, h, g) for t, h, g in samples if t >= warm]
    hub_growth = slope_per_min([(t, h) for t, h, _ in after_warm])
    graph_growth = slope_per_min([(t, g) for t, _, g in after_warm])

    every = [x for values in tally.latencies.values() for x in values]
    unexpected = {c: n for c, n in tally.errors.items() if c not in POLICY_CODES}
    print(f"requests {tally.requests} in {elapsed:.0f} s ({tally.requests / elapsed:.1f}/s)")
    print(f"latency p50 {pct(every, 0.5):.1f} ms  p99 {pct(every, 0.99):.1f} ms")
    for kind in sorted(tally.latencies):
        values = tally.latencies[kind]
        print(f"  {kind:<28} {len(values):>7}  p50 {pct(values, 0.5):7.1f} ms  "
              f"p99 {pct(values, 0.99):7.1f} ms")  # fmt: skip
    print(f"errors by code: {dict(tally.errors) or 'none'} (policy's: {sorted(POLICY_CODES)})")
    print(f"hub RSS {samples[0][1]:.1f} -> {samples[-1][1]:.1f} MB; graph server RSS "
          f"{samples[0][2]:.1f} -> {samples[-1][2]:.1f} MB")  # fmt: skip
    per_minute = [h for t, h, _ in samples if int(t) % 60 < SAMPLE_EVERY_S]
    print("hub RSS at each minute (MB): " + " ".join(f"{m:.0f}" for m in per_minute))
    print(f"growth after {warm:.0f} s warm-up: hub {hub_growth:.2f} MB/min, "
          f"graph server {graph_growth:.2f} MB/min")  # fmt: skip
    print(f"acknowledged writes: {len(tally.customers)} upserts ({missing_customers} missing), "
          f"{len(tally.interactions)} interactions ({missing_interactions} missing)")  # fmt: skip
    print(
        f"c360 audit verify: {(verify.stdout + verify.stderr).strip()} (exit {verify.returncode})"
    )
    print(f"rss_growth_mb_per_min={hub_growth:.3f}")
    failed = unexpected or missing_customers or missing_interactions or verify.returncode
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    args = parser.parse_args()
    # Short path: the graph server's unix socket lives in the data dir.
    base = Path(tempfile.mkdtemp(prefix="soak-", dir="/tmp"))
    data_dir = base / "data"
    code = 1
    try:
        code = asyncio.run(run(args.clients, args.minutes, args.port or free_port(), data_dir))
    finally:
        if args.keep or code != 0:  # a failed run keeps its data dir and the hub's log
            print(f"data dir kept: {data_dir} (hub log: {base / 'data-hub.log'})")
        else:
            shutil.rmtree(base, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
