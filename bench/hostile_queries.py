"""Hostile query shapes against a running hub: response time and /healthz latency meanwhile.

    c360 serve --demo --port 8300 &      # then, with the same C360_DATA_DIR:
    python bench/hostile_queries.py --url http://127.0.0.1:8300

Sends the fragment chain (issue 11, H1) at each --n, then 30 aliases x customers(first: 100) x
transactions, each while a thread probes /healthz every 10 ms; prints per query the response
time, the answer's error code and cost, and the /healthz probes' count, median and max.
The token is a service agent's, signed with the data dir's key (C360_DATA_DIR).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.settings import Settings  # noqa: E402
from privacy.principal import issue_token  # noqa: E402
from privacy.secrets import load_or_create_secret  # noqa: E402
from tests.security.chains import alias_fan_out, fragment_chain  # noqa: E402


def probe(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(timeout=900) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url + "/healthz")
            out.append(time.perf_counter() - started)
            time.sleep(0.01)


def run(client: httpx.Client, url: str, headers: dict[str, str], label: str, query: str) -> None:
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=probe, args=(url, stop, probes))
    prober.start()
    time.sleep(0.05)  # a few probes before, so the median has a baseline
    started = time.perf_counter()
    response = client.post(url + "/graphql", json={"query": query}, headers=headers)
    elapsed = time.perf_counter() - started
    time.sleep(0.05)
    stop.set()
    prober.join()
    error = (response.json().get("errors") or [{}])[0].get("extensions", {})
    print(
        f"{label:<28} {len(query):>6} B  status {response.status_code}  {elapsed * 1000:8.1f} ms"
        f"  code={error.get('code')} cost={error.get('cost')}  /healthz n={len(probes)}"
        f" median={statistics.median(probes) * 1000:.1f} ms max={max(probes) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--n", type=int, nargs="*", default=[18, 21, 23, 30, 60])
    # The hub caches validation by query text: a new id per run measures a cold document.
    parser.add_argument("--customer", default="C000001", help="customer id in the chain")
    args = parser.parse_args()
    key = load_or_create_secret(Settings().resolved_data_dir, "jwt")
    token = issue_token(key, "bench", ["service_agent"], purpose="service")
    headers = {"Authorization": f"Bearer {token}"}
    # One client for every request: creating one (its TLS context) costs tens of ms.
    with httpx.Client(timeout=900) as client:
        client.get(args.url + "/healthz")
        for n in args.n:
            run(
                client, args.url, headers, f"fragment chain n={n}", fragment_chain(n, args.customer)
            )
        run(client, args.url, headers, "30 aliases x 100 x txns", alias_fan_out(30))
        run(client, args.url, headers, "1 alias x 100 x txns", alias_fan_out(1))
        wide = (
            "{ customers(first: 100) { edges { node { id transactions(first: 100) { edges {"
            " node { id amount } } } } } } }"
        )
        run(client, args.url, headers, "100 x txns(first: 100)", wide)


if __name__ == "__main__":
    main()
