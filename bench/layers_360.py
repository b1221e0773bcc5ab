"""The hub's CPU per 360 request, layer by layer, in process (issue 16's breakdown).

    python bench/layers_360.py                  # 500 customers, 400 requests at 16, 3 rounds
    python bench/layers_360.py --requests 800 --rounds 5
    python bench/layers_360.py --rounds 1 --profile schema --dump /tmp/schema.pstats

Seeds hub.demo into a temp data dir and builds the hub (``create_app``: regopy, masking, the
audit log) over the store, on uvloop as ``c360 serve`` runs. Then, alternated in rounds, the
same 360 requests (bench/customer360.py's QUERY as the privacy officer) at ``--concurrency``
enter at four depths, and the CPU of this process per request (all threads; no HTTP client,
no sockets but the graph server's) is printed per depth, median over the rounds:

* ``asgi``: the whole Starlette app, called as uvicorn calls it (scope, receive, send);
* ``endpoint``: the GraphQL endpoint alone (no middleware, no routing);
* ``schema``: ``schema.execute`` with the request's context, then the result processed and
  encoded as the view does (no HTTP view);
* ``typename``: ``{ __typename }`` through ``schema.execute`` (the per-operation floor: hooks,
  caches, the audit record of a request that reads no customer).

The differences are what each layer costs. Last line ``loop_ms_per_request=<asgi>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cprofile_360 import seeded_app  # noqa: E402
from bench.customer360 import QUERY, measure  # noqa: E402
from bench.profile_list import print_profile  # noqa: E402
from hub.app import GraphQLEndpoint  # noqa: E402
from hub.gc_tuning import tune_gc  # noqa: E402

Call = Callable[[str], Awaitable[None]]


def asgi_call(app: Any, token: str) -> Call:
    """POST /graphql through ``app`` as an ASGI server would; a failed answer ends the bench."""
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
    ]

    async def call(cid: str) -> None:
        body = orjson.dumps({"query": QUERY, "variables": {"id": cid}})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # as a server does: nothing until disconnect
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await app(scope, receive, send)
        status = out[0]["status"]
        answer = orjson.loads(b"".join(m.get("body", b"") for m in out[1:]))
        if status != 200 or answer.get("errors"):
            raise SystemExit(f"GraphQL failed for {cid}: {status} {str(answer)[:300]}")

    return call


def schema_call(endpoint: GraphQLEndpoint, principal: Any, query: str | None) -> Call:
    """``schema.execute`` with the context the view would build, then processed and encoded."""
    view = endpoint.graphql

    class _Request:
        def __init__(self, scope: dict[str, Any]) -> None:
            self.scope = scope

    async def call(cid: str) -> None:
        request = _Request({"state": {"principal": principal, "request_id": f"{cid}-bench"}})
        context = await view.get_context(request, None)
        try:
            result = await view.schema.execute(
                query or QUERY,
                variable_values=None if query else {"id": cid},
                context_value=context,
            )
        finally:
            context.release()
        if result.errors:
            raise SystemExit(f"GraphQL failed for {cid}: {result.errors[:1]}")
        view.encode_json(await view.process_result(request, result))

    return call


async def run(
    customers: int,
    requests: int,
    concurrency: int,
    rounds: int,
    d: Path,
    profile: str | None = None,
    dump: Path | None = None,
) -> None:
    async with seeded_app(d, customers, requests) as (app, token, ids):
        endpoint = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")
        assert isinstance(endpoint, GraphQLEndpoint)
        principal = endpoint.verifier.authenticate({"authorization": f"Bearer {token}"})
        calls = {
            "asgi": asgi_call(app, token),
            "endpoint": asgi_call(endpoint, token),
            "schema": schema_call(endpoint, principal, None),
            "typename": schema_call(endpoint, principal, "{ __typename }"),
        }
        for call in calls.values():  # warm: caches, decisions, connections
            for cid in ids[:30]:
                await call(cid)
        tune_gc()  # as `c360 serve` does once started
        spent: dict[str, list[float]] = {name: [] for name in calls}
        for n in range(rounds):
            for name, call in calls.items():
                cpu0 = time.process_time()
                await measure(call, ids, concurrency)
                spent[name].append((time.process_time() - cpu0) / len(ids) * 1000)
            print(
                f"round {n + 1}: "
                + ", ".join(f"{name} {ms[-1]:.3f}" for name, ms in spent.items())
                + " ms/request",
                flush=True,
            )
        if profile:
            # The loop thread's CPU time (not wall time: epoll waits are not work).
            prof = cProfile.Profile(time.thread_time)
            prof.enable()
            await measure(calls[profile], ids, concurrency)
            prof.disable()
            if dump is not None:
                prof.dump_stats(dump)
            print_profile(prof, len(ids), 40, "request")
    med = {name: statistics.median(ms) for name, ms in spent.items()}
    print(f"\nCPU ms per request (median of {rounds} rounds, this process, all threads):")
    print(f"  starlette app + middleware + routing   {med['asgi'] - med['endpoint']:7.3f}")
    print(f"  endpoint: auth + strawberry HTTP view   {med['endpoint'] - med['schema']:7.3f}")
    print(f"  schema.execute of the 360 + encode      {med['schema']:7.3f}")
    print(f"    of which the per-operation floor      {med['typename']:7.3f}")
    print(f"loop_ms_per_request={med['asgi']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile",
        choices=("asgi", "endpoint", "schema", "typename"),
        help="then one more run of this depth under cProfile (the loop thread's CPU time)",
    )
    parser.add_argument("--dump", type=Path, default=None, help="write the pstats file here")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="c360ly-", dir="/tmp"))
    try:
        import uvloop

        uvloop.run(
            run(
                args.customers,
                args.requests,
                args.concurrency,
                args.rounds,
                data_dir,
                args.profile,
                args.dump,
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
