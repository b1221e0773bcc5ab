"""Leak battery per role against a live hub, then the server log grepped for the canaries
(issue 11, items 5 and 9). ``make test`` runs one round per role; ``make security`` sets
C360_SECURITY_ROUNDS for the full battery (>= 5,000 requests) and prints the figures."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import httpx
import orjson

from hub.logs import FIELDS, JsonFormatter
from ingest.social.webhook import signed_headers
from tests.security.chains import fragment_chain
from tests.security.conftest import LiveHub
from tests.security.leak_battery import (
    contains,
    import_canary_advisor,
    make_canaries,
    run_battery,
    write_canaries,
)

ROUNDS = int(os.environ.get("C360_SECURITY_ROUNDS", "1"))


def _hostile_extras(client: httpx.Client, hub: LiveHub, canary_values: list[str]) -> int:
    """Requests whose text carries canaries into every error path a log could quote."""
    headers = hub.headers("service_agent", "service")
    phone, id_number = canary_values[0], canary_values[1]
    bodies: list[bytes] = [
        json.dumps({"query": f'{{ customers(first: "{phone}") {{ totalCount }} }}'}).encode(),
        json.dumps({"query": f'{{ customer(id: "{id_number}") {{ nope }} }}'}).encode(),
        json.dumps(
            {"query": f'{{ customers(search: "{phone}\\u0000") {{ totalCount }} }}'}
        ).encode(),
        json.dumps(
            {"query": "{ customers(search: $x) { totalCount } }", "variables": {"x": phone}}
        ).encode(),
        json.dumps({"query": f"query {{ {phone} }}"}).encode(),
        f'{{"query": "{{ customer(id: \\"{id_number}\\") {{ id }} }}", broken'.encode(),
        json.dumps({"query": fragment_chain(30, customer=id_number)}).encode(),
        json.dumps({"query": "{ customer(id: $id) { id } }", "operationName": phone}).encode(),
    ]
    for body in bodies:
        response = client.post(
            "/graphql", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code < 500, response.text
    # The webhook: a post quoting a canary, badly and well signed.
    post = orjson.dumps(
        {"id": "leak1", "text": f"call me {phone}", "created_at": "2025-03-01T08:00:00Z"}
    )
    client.post("/ingest/posts", content=post, headers={"X-C360-Signature": "sha256=00"})
    good = signed_headers("sec-test-secret", post, now=time.time())
    assert client.post("/ingest/posts", content=post, headers=good).status_code == 200
    assert client.post("/ingest/posts", content=post, headers=good).status_code == 401
    return len(bodies) + 3


def test_no_role_sees_a_canary_and_the_log_holds_none(live_hub: LiveHub) -> None:
    canaries = make_canaries()
    import_canary_advisor(live_hub.data_dir)
    with httpx.Client(base_url=live_hub.url, timeout=60) as client:
        write_canaries(client, live_hub.headers("service_agent", "service", "writer"), canaries)
        results = run_battery(client, live_hub.headers, canaries, ROUNDS)
        # The control: the same probe reaches the canaries for a role that may see them, so a
        # clean battery means masked, not missed.
        one = "query One($id: ID!) { customer(id: $id) { name phone idNumber email } }"
        seen = client.post(
            "/graphql",
            json={"query": one, "variables": {"id": canaries[0].id}},
            headers=live_hub.headers("privacy_officer", "compliance"),
        ).text
        assert all(
            contains(seen, v) for v in (canaries[0].phone, canaries[0].id_number, canaries[0].name)
        ), seen
        extras = _hostile_extras(client, live_hub, [canaries[0].phone, canaries[1].id_number])
    for r in results:
        print(f"leak battery: {r.role}: {r.requests} requests, {r.leaks} leaks, "
              f"{r.server_errors} 5xx", file=sys.stderr)  # fmt: skip
        assert r.leaks == 0 and r.server_errors == 0
    assert sum(r.requests for r in results) >= 5 * 20 * ROUNDS

    log = live_hub.log()
    values = [v for c in canaries for v in (c.name, c.phone, c.national, c.id_number, c.email)]
    hits = {v: log.count(v) for v in values if contains(log, v)}
    total = sum(r.requests for r in results) + extras
    print(f"server log: {len(log.splitlines())} lines after {total} requests; "
          f"canary hits {sum(hits.values())}", file=sys.stderr)  # fmt: skip
    assert hits == {}
    # Every request left one structured line with a query hash, never the query.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("msg") == "request"]
    assert len(requests) >= total
    assert {"request_id", "subject", "operation", "query_sha256", "duration_ms", "outcome",
            "error_codes"} <= set(requests[-1])  # fmt: skip
    assert any(r["error_codes"] == ["QUERY_TOO_COSTLY"] for r in requests)
    assert all(len(r["query_sha256"] or "0" * 64) == 64 for r in requests)
    assert "Traceback" not in log


def test_a_logged_exception_keeps_its_frames_but_not_its_message() -> None:
    canary = "+8613900001111"
    try:
        raise ValueError(f"query text with {canary}")
    except ValueError:
        record = logging.LogRecord(
            "c360.test", logging.ERROR, __file__, 1, "boom", (), sys.exc_info()
        )
    record.__dict__[FIELDS] = {"request_id": "r1"}
    line = json.loads(JsonFormatter().format(record))
    assert canary not in json.dumps(line, ensure_ascii=False)
    assert line["exception"][0]["type"] == "builtins.ValueError"
    assert "test_a_logged_exception" in line["exception"][0]["frames"][-1]
    assert line["request_id"] == "r1"
