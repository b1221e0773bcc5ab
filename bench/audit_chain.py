"""What the API's audit chain status costs on a long log: the full walk `c360 audit verify`
does, next to the resumed walk `auditChain` does after N new records, side by side in one run.

    .venv/bin/python bench/audit_chain.py [--records 20000] [--new 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from privacy.audit import AuditLog, make_record
from privacy.audit_status import AuditChainMonitor
from privacy.keyring import KeyRing
from privacy.types import Principal

OFFICER = Principal("po1", ("privacy_officer",), "compliance")


async def fill(log: AuditLog, n: int) -> None:
    for start in range(0, n, 500):
        await asyncio.gather(
            *(
                log.append(make_record(principal=OFFICER, operation=f"op{i}", outcome="ok"))
                for i in range(start, min(n, start + 500))
            )
        )


async def main(records: int, new: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="c360-bench-") as d:
        data_dir = Path(d)
        log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
        await fill(log, records)
        size_mb = log.path.stat().st_size / 1e6
        monitor = AuditChainMonitor(log, max_age_s=0, full_every_s=1e9)
        t0 = time.perf_counter()
        await monitor.status()
        first = time.perf_counter() - t0
        full, resumed, cached = [], [], []
        for _ in range(rounds):
            await fill(log, new)
            t0 = time.perf_counter()
            status = await monitor.status()
            resumed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = log.verify()
            full.append(time.perf_counter() - t0)
            assert status.verified and status.records == result.count
        monitor.max_age_s = 60
        for _ in range(rounds):
            t0 = time.perf_counter()
            await monitor.status()
            cached.append(time.perf_counter() - t0)
        f, r, c = (statistics.median(x) * 1000 for x in (full, resumed, cached))
        print(f"log: {result.count} records, {size_mb:.1f} MB; {rounds} rounds of {new} new")
        print(f"first auditChain (whole walk):   {first * 1000:9.1f} ms")
        print(f"c360 audit verify (whole walk):  {f:9.1f} ms median")
        print(f"auditChain after {new} new:       {r:9.1f} ms median")
        print(f"auditChain within max_age_s:     {c:9.3f} ms median")
        print(f"ratio full/resumed={f / r:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.new, args.rounds))
