"""Does a large webhook push hold the hub's event loop? /healthz latency while 1000-post
pushes are taken.

    python bench/webhook_loop.py     # `c360 serve`, 5 pushes of 1000 posts (~280 characters)

Starts `c360 serve` (no demo book) on a free port with a webhook secret, then sends
``--pushes`` signed pushes of ``--posts`` new posts each to ``POST /ingest/posts`` while another
thread probes /healthz every 5 ms. Prints the pushes' time and the probes' median, p90 and max;
the last line is ``healthz_max_ms=``. A loop held by one push for X ms shows as a probe of
about X ms (parsing, fingerprints and rows on the loop: 230-360 ms for 1000 posts).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.event_loop import probe  # noqa: E402
from bench.hub_process import free_port, start_hub, stop_hub, wait_ready  # noqa: E402
from ingest.social.webhook import signed_headers  # noqa: E402

SECRET = "bench-webhook-secret"
TEXTS = (
    "招行客服很耐心，非常满意，信用卡额度也提了",
    "排队太久了，非常失望，手机银行又闪退",
    "理财经理推荐的基金跌了不少，有点后悔",
    "转账到账很快，App 界面清爽好用",
)


def text_of(push: int, i: int, chars: int) -> str:
    """About ``chars`` characters of varied text (so fingerprints differ)."""
    parts, n = [], i
    while sum(map(len, parts)) < chars:
        parts.append(TEXTS[n % len(TEXTS)])
        n = n * 7 + 3
    return "，".join(parts)[:chars] + f" #{push}-{i}"


def push_body(push: int, posts: int, chars: int) -> bytes:
    """``posts`` distinct posts of about ``chars`` characters each."""
    return orjson.dumps(
        [
            {
                "id": f"wl-{push}-{i}",
                "text": text_of(push, i, chars),
                "author": f"user{i % 97}",
                "created_at": f"2025-03-01T{i % 24:02d}:{i % 60:02d}:00Z",
                "likes": i % 50,
            }
            for i in range(posts)
        ]
    )


async def run(data_dir: Path, posts: int, pushes: int, chars: int) -> None:
    port = free_port()
    proc = start_hub(
        data_dir, port, env={"C360_WEBHOOK_SECRET": SECRET, "C360_REQUEST_TIMEOUT_S": "120"}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            await wait_ready(client, proc)
        bodies = [push_body(n, posts, chars) for n in range(pushes + 1)]
        with httpx.Client(base_url=url, timeout=120) as client:
            # Warm-up: the scorer's model loads on the first push.
            warm = client.post("/ingest/posts", content=bodies[0],
                               headers=signed_headers(SECRET, bodies[0]))  # fmt: skip
            warm.raise_for_status()
            stop, probes = threading.Event(), []
            prober = threading.Thread(target=probe, args=(url, stop, probes))
            prober.start()
            took = []
            try:
                time.sleep(0.2)
                for body in bodies[1:]:
                    started = time.perf_counter()
                    answer = client.post(
                        "/ingest/posts", content=body, headers=signed_headers(SECRET, body)
                    )
                    answer.raise_for_status()
                    took.append(time.perf_counter() - started)
                time.sleep(0.2)
            finally:
                stop.set()
                prober.join()
        ms = sorted(p * 1000 for p in probes)
        print(f"{pushes} pushes of {posts} posts of ~{chars} characters, each {answer.json()}")
        print(f"push time p50 {statistics.median(took) * 1000:.0f} ms")
        print(
            f"healthz probes {len(ms)}: p50 {statistics.median(ms):.1f} ms, "
            f"p90 {ms[int(0.9 * len(ms))]:.1f} ms, max {ms[-1]:.1f} ms"
        )
        print(f"healthz_max_ms={ms[-1]:.0f}")
    finally:
        stop_hub(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--chars", type=int, default=280, help="characters a post")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="c360w-", dir="/tmp"))
    try:
        asyncio.run(run(data_dir, args.posts, args.pushes, args.chars))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
