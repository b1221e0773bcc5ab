"""A minimal OPA REST stand-in (no OPA binary installs here), backed by regopy.

It speaks the parts of OPA's v1 API the hub uses, with OPA's JSON shapes:
PUT /v1/policies/{id} (text/plain Rego) -> 200 {}, 400 {"code", "message", "errors"};
PUT /v1/data/{path} (JSON object) -> 204; POST /v1/data/{path} {"input": ...} ->
200 {"result": ...} or 200 {} when undefined; GET /health -> 200 {}. ``delay_s`` makes every
decision slow.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from regopy import Interpreter, RegoError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class OpaState:
    policies: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0
    decisions: int = 0

    def interpreter(self) -> Interpreter:
        rego = Interpreter()
        rego.set_input_term("{}")
        rego.add_data_json(json.dumps(self.data))
        for policy_id, source in sorted(self.policies.items()):
            rego.add_module(policy_id, source)
        return rego


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "errors": [{"message": message}]}, status
    )


def build_app(state: OpaState) -> Starlette:
    lock = threading.Lock()

    async def put_policy(request: Request) -> Response:
        policy_id = request.path_params["policy_id"]
        source = (await request.body()).decode()
        candidate = OpaState({**state.policies, policy_id: source}, state.data)
        try:
            candidate.interpreter().query("x = 1")
        except RegoError as exc:
            return _error(400, "invalid_parameter", f"error(s) occurred while compiling: {exc}")
        state.policies[policy_id] = source
        return JSONResponse({})

    async def data(request: Request) -> Response:
        path = [p for p in request.path_params["path"].split("/") if p]
        if request.method == "PUT":
            value = json.loads(await request.body())
            node = state.data
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
            return Response(status_code=204)
        body = json.loads(await request.body() or b"{}")
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        query_input = body.get("input", {})

        def evaluate() -> Any:
            with lock:
                rego = state.interpreter()
                rego.set_input_term(json.dumps(query_input))
                out = rego.query("x = data." + ".".join(path))
                if not out.ok():
                    raise RegoError(str(out), 1)
                return out.results[0].bindings if out.results else {}

        try:
            bindings = await asyncio.to_thread(evaluate)
        except RegoError as exc:
            return _error(500, "internal_error", str(exc)[:500])
        state.decisions += 1
        return JSONResponse({"result": bindings["x"]} if "x" in bindings else {})

    async def health(request: Request) -> Response:
        return JSONResponse({})  # OPA's answer once it is up (no bundles to wait for here)

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/policies/{policy_id:path}", put_policy, methods=["PUT"]),
            Route("/v1/data/{path:path}", data, methods=["PUT", "POST"]),
        ]
    )


@dataclass
class RunningOpa:
    url: str
    port: int
    state: OpaState
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def opa_standin() -> Iterator[RunningOpa]:
    """Run the stand-in on 127.0.0.1 at a free port in a thread; stop it on exit."""
    state = OpaState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(state), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    running = RunningOpa(f"http://127.0.0.1:{port}", port, state, server, thread)
    try:
        yield running
    finally:
        running.stop()
        sock.close()
