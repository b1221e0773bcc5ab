"""No single request stalls the hub (issue 11, item 1): against a real uvicorn server.

The fragment chain used to double its validation work per fragment (n=23: the whole server
blocked 26 s; n=30: more than 10 minutes). Now it is refused by cost in linear time while
/healthz keeps answering. Wall-clock bounds are the issue's, with generous margins.
"""

from __future__ import annotations

import statistics
import threading
import time

import httpx

from tests.security.chains import alias_fan_out, fragment_chain
from tests.security.conftest import LiveHub


def _healthz_probes(hub: LiveHub, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            out.append(time.perf_counter() - started)
            time.sleep(0.005)


def test_fragment_chain_is_refused_fast_and_health_keeps_answering(live_hub: LiveHub) -> None:
    headers = live_hub.headers("service_agent", "service")
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=_healthz_probes, args=(live_hub, stop, probes))
    prober.start()
    elapsed = []
    try:
        with httpx.Client(base_url=live_hub.url, timeout=60, headers=headers) as client:
            # Different n each time: no cache can help.
            for n in range(23, 43):
                started = time.perf_counter()
                response = client.post("/graphql", json={"query": fragment_chain(n)})
                elapsed.append(time.perf_counter() - started)
                body = response.json()
                assert response.status_code == 200 and "data" in body
                error = body["errors"][0]
                assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
                assert error["extensions"]["maxCost"] == 50_000
    finally:
        stop.set()
        prober.join()
    assert max(elapsed) < 1.0, elapsed
    assert len(probes) >= 5 and statistics.median(probes) < 0.1, probes


def test_alias_fan_out_is_refused_by_cost_before_execution(live_hub: LiveHub) -> None:
    headers = live_hub.headers("service_agent", "service")
    response = httpx.post(
        live_hub.url + "/graphql", json={"query": alias_fan_out()}, headers=headers, timeout=60
    )
    body = response.json()
    assert body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY" and extensions["cost"] > 50_000
