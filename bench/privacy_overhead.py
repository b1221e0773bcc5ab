"""What the privacy layer costs: the customer-360 query with policy, masking and audit on vs off,
and with personal fields sealed at rest (field encryption) on top.

    python bench/privacy_overhead.py --quick        # 300 customers, under a minute
    python bench/privacy_overhead.py                # 2000 customers, a few minutes

Seeds hub.demo into a private temp data dir with one embedded FalkorDB store, builds two apps
over that store, ``create_app(...)`` (regopy policy engine, masking, audit log) and
``create_app(..., open_services=<allow-all>)`` (privacy/allow_all.py), and sends both the
same full 360 query (bench/customer360.py's, plus ``maskedFields``) for the same customers
through httpx's ASGI transport, so no sockets or server process get in the way. The privacy
app is asked by a privacy_officer for compliance, who sees every field unmasked: both apps
return the same data. The timed requests run in rounds that alternate which app goes first.

The ``encrypted`` side is a second data dir with its own embedded FalkorDB, seeded with the
same demo book through a store that has the field encryption service attached (so names,
phones, ID numbers, e-mails, addresses and birth dates are stored sealed, one data key per
customer), served by a privacy app like the first: its extra cost is decrypting in the
loaders. Last lines: ``ratio=<plain req/s / privacy req/s>`` and
``encrypted_ratio=<plain req/s / encrypted req/s>`` at the chosen concurrency (how many times
slower), and ``encryption_cost=<privacy req/s / encrypted req/s>``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import QUERY as BASE_QUERY  # noqa: E402
from bench.customer360 import Call, measure, pct  # noqa: E402
from graph.connect import store_session  # noqa: E402
from graph.store import GraphStore  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.demo import seed_demo  # noqa: E402
from hub.services import protect_store  # noqa: E402
from hub.settings import Settings  # noqa: E402
from privacy.allow_all import allow_all_services  # noqa: E402
from privacy.audit import AuditLog  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402
from privacy.services import PrivacyServices  # noqa: E402

# The 360 query plus the one field that exists only for the privacy layer.
QUERY = BASE_QUERY.replace("createdAt consents", "createdAt maskedFields consents", 1)
assert QUERY != BASE_QUERY, "bench/customer360.py's QUERY changed; update the maskedFields splice"

WARMUP = 20
ROUNDS = 8
console = Console()


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # this process, all threads; the FalkorDB server's own CPU is not in it

    async def run(self, call: Call, ids: list[str], concurrency: int) -> None:
        cpu = time.process_time()
        latencies, wall = await measure(call, ids, concurrency)
        self.cpu += time.process_time() - cpu
        self.latencies += latencies
        self.wall += wall

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall


@asynccontextmanager
async def serve(
    settings: Settings, store: GraphStore, *, privacy: bool
) -> AsyncIterator[tuple[httpx.AsyncClient, AuditLog | None]]:
    """An in-process client for the app (lifespan entered) and its audit log, if any
    (``privacy`` False: the allow-all privacy services, nothing masked or audited)."""
    if privacy:
        app = create_app(settings, store=store)
    else:

        async def allow_all(_: Settings) -> PrivacyServices:
            return allow_all_services()

        app = create_app(settings, store=store, open_services=allow_all)
    async with app.router.lifespan_context(app):
        services = app.state.privacy.services
        if privacy and (services is None or services.engine is None or services.audit is None):
            why = getattr(services, "engine_error", "") or "the audit log did not open"
            raise SystemExit(f"the privacy layer did not start: {why}")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=60
        ) as client:
            yield client, services.audit if isinstance(services.audit, AuditLog) else None


def graphql_call(client: httpx.AsyncClient, token: str, label: str) -> Call:
    headers = {"Authorization": f"Bearer {token}"}

    async def call(cid: str) -> None:
        response = await client.post(
            "/graphql", json={"query": QUERY, "variables": {"id": cid}}, headers=headers
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors") or not body["data"]["customer"]:
            raise SystemExit(f"{label}: the 360 query failed for {cid}: {response.text[:300]}")

    return call


async def run(customers: int, requests: int, concurrency: int, data_dir: Path) -> float:
    settings = Settings(data_dir=data_dir, graph_url="")
    sealed_settings = Settings(data_dir=data_dir / "enc", graph_url="")
    async with (
        store_session(data_dir) as store,
        store_session(sealed_settings.resolved_data_dir) as sealed_store,
    ):
        console.print(f"seeding {customers} demo customers into {data_dir} ...")
        await seed_demo(store, customers=customers, progress=True)
        console.print("seeding the same book again, sealed at rest ...")
        await seed_demo(protect_store(sealed_store, sealed_settings), customers=customers)
        rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
        all_ids = [r["id"] for r in rows]
        sealed_rows = await sealed_store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
        assert [r["id"] for r in sealed_rows] == all_ids, "the two books differ"
        probe = await sealed_store.read(
            "MATCH (c:Customer) WHERE c.name STARTS WITH 'enc1:' RETURN count(c) AS n"
        )
        assert probe[0]["n"] == len(all_ids), "the encrypted side holds plain names"
        rng = random.Random(7)
        ids = [rng.choice(all_ids) for _ in range(requests)]

        key = load_or_create_secret(data_dir, "jwt")
        sealed_key = load_or_create_secret(sealed_settings.resolved_data_dir, "jwt")
        officer = issue_token(key, "bench-po", ["privacy_officer"], purpose="compliance")
        sealed_officer = issue_token(
            sealed_key, "bench-po", ["privacy_officer"], purpose="compliance"
        )
        agent = issue_token(key, "bench-sa", ["service_agent"], purpose="service")

        async with (
            serve(settings, store, privacy=True) as (private_client, audit),
            serve(settings, store, privacy=False) as (plain_client, _),
            serve(sealed_settings, sealed_store, privacy=True) as (sealed_client, sealed_audit),
        ):
            assert audit is not None and sealed_audit is not None
            calls = {
                "privacy": graphql_call(private_client, officer, "privacy app"),
                "plain": graphql_call(plain_client, officer, "plain app"),
                "encrypted": graphql_call(sealed_client, sealed_officer, "encrypted app"),
            }
            extra = graphql_call(private_client, agent, "privacy app (service_agent)")
            # Warm both (schema caches, policy engine, store connections) before timing.
            for cid in ids[:WARMUP]:
                for call in (*calls.values(), extra):
                    await call(cid)
            audited_before = audit.verify().count

            figures = {name: Figures() for name in calls}
            # Rounds long enough that the ramp-down of the last few requests stays a small share.
            rounds = max(1, min(ROUNDS, len(ids) // (4 * concurrency)))
            chunks = [ids[i::rounds] for i in range(rounds)]
            for n, chunk in enumerate(chunks):
                order = list(calls) if n % 2 == 0 else list(reversed(calls))
                for name in order:
                    await figures[name].run(calls[name], chunk, concurrency)
            masked = Figures()
            await masked.run(extra, ids, concurrency)

            check = audit.verify()
            written = check.count - audited_before

    timed = 2 * requests  # privacy_officer + service_agent requests on the privacy app
    table = Table(title=f"customer 360, concurrency {concurrency}, {requests} requests per app")
    for column in ("app", "req/s", "p50 ms", "p95 ms", "cpu ms/req"):
        table.add_column(column, justify="left" if column == "app" else "right")
    rows_out = [
        ("privacy off", figures["plain"]),
        ("privacy on, privacy_officer", figures["privacy"]),
        ("privacy on + sealed at rest", figures["encrypted"]),
        ("on, service_agent (info)", masked),
    ]
    for label, fig in rows_out:
        table.add_row(
            label,
            f"{fig.rps:.1f}",
            f"{pct(fig.latencies, 0.5) * 1000:.1f}",
            f"{pct(fig.latencies, 0.95) * 1000:.1f}",
            f"{fig.cpu / len(fig.latencies) * 1000:.1f}",
        )
    console.print(f"\ncustomers={customers}; same customer ids for every row")
    console.print(table)
    status = "verified" if check.ok else f"BROKEN at seq {check.first_bad_seq}: {check.reason}"
    console.print(
        f"audit records written while timed: {written} (expected {timed}); chain {status}, "
        f"{check.count} in all"
    )
    if not check.ok or written != timed:
        raise SystemExit("the audit log does not hold one record per request")
    ratio = figures["plain"].rps / figures["privacy"].rps
    p50 = pct(figures["privacy"].latencies, 0.5) / pct(figures["plain"].latencies, 0.5)
    cpu = figures["privacy"].cpu / figures["plain"].cpu
    # CPU per request is steadier than req/s when other work shares the machine.
    console.print(f"p50 ratio (privacy / plain) = {p50:.2f}; python cpu ratio = {cpu:.2f}")
    console.print("ratio = plain req/s / privacy req/s (times slower with the privacy layer)")
    sealed_ratio = figures["plain"].rps / figures["encrypted"].rps
    cost = figures["privacy"].rps / figures["encrypted"].rps
    sealed_cpu = figures["encrypted"].cpu / figures["privacy"].cpu
    console.print(f"python cpu ratio (sealed / privacy) = {sealed_cpu:.2f}")
    print(f"ratio={ratio:.2f}")
    print(f"encrypted_ratio={sealed_ratio:.2f}")
    print(f"encryption_cost={cost:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="300 customers, under a minute")
    parser.add_argument("--requests", type=int, default=None, help="360 queries per app")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    customers = 300 if args.quick else args.customers
    requests = args.requests or (320 if args.quick else 1000)
    # Short path: the embedded FalkorDB's unix socket must fit in 108 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix="c360p-", dir="/tmp"))
    try:
        asyncio.run(run(customers, requests, args.concurrency, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
