"""The 360 view over HTTP with nothing but the HTTP server: the floor under the GraphQL hub.

    python -m bench.floor_server --data-dir D --port P     # started by bench/customer360.py --floor

A Starlette app with one route, ``POST /360`` (body ``{"id": ...}``), that makes the raw side's
reads (bench/customer360.py's ``raw_360``: the same repository functions, concurrently, then
the linked customers) and answers them as JSON with orjson. Served as ``c360 serve`` serves the
hub (uvicorn, uvloop, httptools, one process, access log off) over the same graph server
(the data dir's embedded FalkorDB, already running). No GraphQL, no policy decision, no masking,
no audit, no authentication: what is left is what any HTTP service over these reads pays on
this machine, so ``floor_ratio`` (its p50 / the raw p50 at concurrency 16) is the ratio no
HTTP API over the same reads can beat here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.customer360 import raw_360  # noqa: E402
from graph.connect import open_store  # noqa: E402


def build_app(data_dir: Path) -> Starlette:
    """The one-route app over the embedded graph in ``data_dir``."""
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["store"] = store = await open_store(data_dir)
        try:
            yield
        finally:
            await store.close()

    async def view(request: Request) -> Response:
        cid = orjson.loads(await request.body())["id"]
        body = await raw_360(state["store"], cid)  # type: ignore[arg-type]
        return Response(orjson.dumps(body, default=str), media_type="application/json")

    async def ready(_: Request) -> Response:
        return Response(b"ok" if "store" in state else b"starting")

    return Starlette(
        routes=[Route("/360", view, methods=["POST"]), Route("/readyz", ready)], lifespan=lifespan
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = uvicorn.Config(
        build_app(args.data_dir),
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
