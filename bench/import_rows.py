"""CRM import throughput through `c360 import`, three ways, side by side in one run.

    python bench/import_rows.py [--customers 100000] [--transactions 1000000] [--quick]

Generates, in a temp dir, customers and accounts (one per customer) and transactions in the
documented format (README, "Importing CRM data"), plus the same transactions as a foreign
export (Chinese headers, compact times, coded kinds). Then times, each as a `c360 import`
subprocess against one embedded FalkorDB that this script keeps open:

  plain    customers.csv + transactions.csv                    (documented columns)
  mapping  the foreign transactions with --mapping (columns, [values], [source] time format)
  sql      the foreign transactions with --sql (DuckDB: strptime, CASE, arithmetic)

Transactions are deleted between the three (untimed), so each run inserts the same 1M rows.
Beside the rates it prints each command's CPU per row (the import process and the graph
server), which the machine's other load changes far less than wall time. The last line is
``rows_per_s=<the slowest of the three>`` (goal: >= 20 000 on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.connect import store_session
from graph.embedded import EmbeddedFalkorDB

KINDS = ["DEPOSIT", "WITHDRAWAL", "TRANSFER_IN", "TRANSFER_OUT", "PAYMENT", "SALARY", "FEE"]
CODES = {kind: str(i + 1) for i, kind in enumerate(KINDS)}
CHANNELS = ["ATM", "POS", "ONLINE", "MOBILE", "BRANCH"]
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
START = datetime(2024, 1, 1, tzinfo=UTC)

MAPPING = """
[source]
time_formats = ["%Y%m%d%H%M%S"]
[columns]
"流水号" = "id"
"账号" = "accountId"
"金额(分)" = "amount"
"交易时间" = "time"
"渠道" = "channel"
"类型" = "kind"
"摘要" = "description"
[values.kind]
{codes}
[defaults]
currency = "CNY"
"""

SQL = """
SELECT "流水号" AS id, "账号" AS accountId, "金额(分)" / 100.0 AS amount, 'CNY' AS currency,
       strptime(CAST("交易时间" AS VARCHAR), '%Y%m%d%H%M%S') AS time, "渠道" AS channel,
       CASE "类型" {cases} END AS kind, "摘要" AS description
FROM read_csv('{file}', header = true, types = {{'流水号': 'VARCHAR', '账号': 'VARCHAR',
              '交易时间': 'VARCHAR'}})
"""


def generate(folder: Path, customers: int, transactions: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "name", "gender", "birthDate", "phone", "createdAt", "riskProfile"])
        for i in range(customers):
            out.writerow([
                f"C{i:07d}", rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                rng.choice("MF"), f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}", f"13{rng.randint(100000000, 999999999)}",
                f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 09:30:00",
                rng.choice(["保守", "稳健", "激进"]),
            ])  # fmt: skip
    with (folder / "accounts.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "customerId", "type", "balance", "openedAt"])
        for i in range(customers):
            out.writerow([f"A{i:07d}", f"C{i:07d}", "SAVINGS", rng.randint(0, 10**7) / 100,
                          "2015-06-01"])  # fmt: skip
    plain = (folder / "transactions.csv").open("w", newline="", encoding="utf-8")
    foreign = (folder / "foreign.csv").open("w", newline="", encoding="utf-8")
    with plain, foreign:
        docs, cn = csv.writer(plain), csv.writer(foreign)
        docs.writerow(["id", "accountId", "amount", "currency", "time", "channel", "kind",
                       "description"])  # fmt: skip
        cn.writerow(["流水号", "账号", "金额(分)", "交易时间", "渠道", "类型", "摘要"])
        for i in range(transactions):
            account = f"A{rng.randrange(customers):07d}"
            cents = rng.randint(100, 5_000_000)
            moment = START + timedelta(seconds=rng.randrange(60 * 60 * 24 * 600))
            kind, channel = rng.choice(KINDS), rng.choice(CHANNELS)
            when = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            docs.writerow([f"T{i:08d}", account, cents / 100, "CNY", when, channel, kind, "转账"])
            local = moment + timedelta(hours=8)  # the foreign export writes Shanghai time
            cn.writerow([f"T{i:08d}", account, cents, local.strftime("%Y%m%d%H%M%S"), channel,
                         CODES[kind], "转账"])  # fmt: skip
    codes = "\n".join(f'"{code}" = "{kind}"' for kind, code in CODES.items())
    (folder / "foreign.toml").write_text(MAPPING.format(codes=codes), encoding="utf-8")


TICK = os.sysconf("SC_CLK_TCK")
# CPU seconds per command: (import process, graph server), beside the wall times. On a shared
# machine wall time is the CPU the others leave; the CPU a run spent does not depend on them.
CPU: dict[str, tuple[float, float]] = {}


def server_cpu(pid: int | None) -> float:
    """Seconds of CPU (user + system) the graph server has used (0 if unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def c360(args: list[str], env: dict[str, str], server: int | None = None, name: str = "") -> float:
    """Seconds one `c360 import ...` subprocess takes (it must succeed)."""
    exe = Path(sys.executable).with_name("c360")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = server_cpu(server)
    started = time.perf_counter()
    done = subprocess.run([str(exe), "import", *args, "--no-progress", "--json"], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    CPU[name or args[0]] = (used, server_cpu(server) - s0)
    if done.returncode != 0:
        raise SystemExit(f"c360 import {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    print(f"  {args[0]:<13} {done.stdout.strip()[:160]}")
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="10k customers, 100k transactions")
    opts = parser.parse_args()
    if opts.quick:
        opts.customers, opts.transactions = 10_000, 100_000
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="c360b-", dir="/tmp") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        generate(folder, opts.customers, opts.transactions)
        print(f"generated {opts.customers} customers, {opts.transactions} transactions "
              f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
        env = {**os.environ, "C360_DATA_DIR": str(folder / "d")}
        batch = ["--batch-size", str(opts.batch)]
        async with store_session(folder / "d") as store:  # keeps the server up between runs
            pid = EmbeddedFalkorDB(folder / "d").server_pid()
            t_customers = c360(["customers", str(folder / "customers.csv"), *batch], env, pid)
            t_accounts = c360(["accounts", str(folder / "accounts.csv"), *batch], env, pid)
            t_tx = c360(["transactions", str(folder / "transactions.csv"), *batch], env, pid)
            await delete_transactions(store)
            t_map = c360(["transactions", str(folder / "foreign.csv"), "-m",
                          str(folder / "foreign.toml"), *batch], env, pid, "mapping")  # fmt: skip
            await delete_transactions(store)
            cases = " ".join(f"WHEN {code} THEN '{kind}'" for kind, code in CODES.items())
            # FILE given, the query reads it as {file}: the SQL sandbox lets a query read FILE
            # and the working directory's files only (ingest/sql_sandbox.py).
            query = SQL.format(cases=cases, file="{file}")
            t_sql = c360(["transactions", str(folder / "foreign.csv"), "--sql", query, *batch],
                         env, pid, "sql")  # fmt: skip
            (n,) = await store.read("MATCH (t:Transaction) RETURN count(t) AS n")
            assert n["n"] == opts.transactions, n
    plain = (opts.customers + opts.transactions) / (t_customers + t_tx)
    rates = {
        "customers": opts.customers / t_customers,
        "accounts": opts.customers / t_accounts,
        "transactions": opts.transactions / t_tx,
        "plain (customers + transactions)": plain,
        "mapping (transactions)": opts.transactions / t_map,
        "sql (transactions)": opts.transactions / t_sql,
    }
    for name, rate in rates.items():
        print(f"{name:<34} {rate:>10,.0f} rows/s")
    # Per command, CPU per row of the `c360 import` process (start-up included) and of the
    # graph server: what an idle machine's wall time is made of.
    counts = {"customers": opts.customers, "accounts": opts.customers,
              "transactions": opts.transactions, "mapping": opts.transactions,
              "sql": opts.transactions}  # fmt: skip
    for name, (client, server) in CPU.items():
        print(f"cpu {name:<30} import {client / counts[name] * 1e6:6.1f} µs/row, "
              f"server {server / counts[name] * 1e6:6.1f} µs/row")  # fmt: skip
    # The machine may be shared: figures mean little without the load they were taken under.
    print(f"load average at start {load_start:.1f}, at end {os.getloadavg()[0]:.1f}")
    slowest = min(plain, rates["mapping (transactions)"], rates["sql (transactions)"])
    print(f"rows_per_s={slowest:.0f}")


async def delete_transactions(store) -> None:  # type: ignore[no-untyped-def]
    while (await store.write(
        "MATCH (t:Transaction) WITH t LIMIT 50000 DETACH DELETE t RETURN count(*) AS n"
    ))[0]["n"]:  # fmt: skip
        pass


if __name__ == "__main__":
    asyncio.run(main())
