"""`c360 serve`: the hub on uvicorn; `--demo` seeds an empty graph and prints a dev token
(audited as `c360 token` audits the tokens it prints)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shlex
from collections.abc import Callable
from typing import Annotated, Any

import orjson
import typer
import uvicorn
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse, print_ast
from rich.markup import escape
from uvicorn.supervisors import Multiprocess

from hub.app import create_app, seed_demo_data
from hub.cli import reuse_port
from hub.cli.common import console, fail, graph, load_catalogue, load_settings, run
from hub.cli.ingest import matcher
from hub.cli.port_holders import listen_error
from hub.cli.token import audit_issue, issuer, make_token
from hub.http_protocol import PROTOCOL, WS_PROTOCOL, configure
from hub.logs import configure_logging
from hub.persisted import (
    PersistedQueries,
    PersistedQueriesFileError,
    load_documents,
    sha256_hex,
)
from hub.services import check_keys
from hub.settings import Settings
from hub.ws_transport import ws_limits
from privacy.secrets import KeyFileError

# The privacy officer reads everything only for compliance; other roles: `c360 token`.
DEV_PURPOSES = ["compliance"]
EXAMPLE_DOCUMENT = "{ customers(first: 3) { edges { node { id name segment } } } }"


def banner(settings: Settings, token: str) -> str:
    url = f"http://{settings.host}:{settings.port}/graphql"
    note, body = example_request(settings)
    curl = (
        f"curl -s {url} -H {shlex.quote('Authorization: Bearer ' + token)} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )
    return "\n".join(
        [
            # Printed before the lifespan looks at the book: demo roles are offered only on a
            # book the demo seeded (hub/demo_guard.py); the sign-in page says which it is.
            f"Console: http://{settings.host}:{settings.port}/console (sign in with a demo "
            "role on the demo's book; on any other, with a token from `c360 token`)",
            f"GraphiQL: {url}",
            "dev token (privacy_officer, purpose compliance: every field revealed, read only; 8h):",
            token,
            note,
            curl,
            "other roles: c360 token --sub m1 --role marketing_analyst --purpose marketing",
        ]
    )


def example_request(settings: Settings) -> tuple[str, str]:
    """The banner's "try:" line and a request body this hub runs. A hub held to persisted
    queries refuses the example document unless it is listed: then a listed query by its hash
    (the allow-list was read before the hub started), one without variables if there is one,
    else one with placeholders for its variables."""
    example = orjson.dumps({"query": EXAMPLE_DOCUMENT}).decode()
    if not settings.persisted_queries_only or settings.persisted_queries is None:
        return "try:", example
    documents = load_documents(settings.persisted_queries)
    if sha256_hex(EXAMPLE_DOCUMENT) in documents:
        return "try:", example
    note = (
        "this hub runs persisted queries only (C360_PERSISTED_QUERIES_ONLY): other documents "
        "are refused; try a listed query by its hash"
    )
    queries = [(digest, _query_variables(doc)) for digest, doc in documents.items()]
    listed = [(digest, variables) for digest, variables in queries if variables is not None]
    if not listed:
        return f"{note} (none is listed: add one to {settings.persisted_queries}):", "{}"
    digest, variables = min(listed, key=lambda item: len(item[1] or {}))
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if variables:
        body["variables"] = variables
        note += " (fill in its variables)"
    return f"{note}:", orjson.dumps(body).decode()


def _query_variables(document: str) -> dict[str, str] | None:
    """Placeholders for the variables of ``document`` when it is one query
    (``{"id": "<ID!>"}``), None for a mutation, a subscription or several operations (not
    the banner's to try)."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    definitions = operations[0].variable_definitions or ()
    return {d.variable.name.value: f"<{print_ast(d.type)}>" for d in definitions}


def dev_token(settings: Settings, by: str) -> str:
    """The banner's token, on record before anything starts, as `c360 token` records the
    tokens it prints (hub/cli/token.py audit_issue: issued by ``by``, never the token): an
    audit log that cannot take the record stops the command, no token printed, exit 2."""
    try:
        token = make_token("dev", ["privacy_officer"], DEV_PURPOSES, None, "8h")
    except ValueError as exc:  # e.g. C360_JWT_MAX_LIFETIME_S under 8 h: one sentence
        fail(f"the dev token cannot be made: {exc}")
    audit_issue(settings, by, token)
    return token


def connection_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options against slow clients and descriptor exhaustion: the guarded HTTP
    and websocket protocols (header timeout, hard connection cap, sockets evictable until
    authenticated: hub/http_protocol.py) with the websocket message limits, uvicorn's own
    request cap (503 beyond it) and idle keep-alive timeout. Sets this process's limits."""
    cap = configure(settings)
    # uvicorn answers 503 once connections or running requests reach its limit: one above
    # the cap, so a connection that took a slow client's place (see GuardedHttpTools) is
    # served, and requests in flight stay bounded all the same.
    return {
        "http": PROTOCOL,
        "ws": WS_PROTOCOL,
        **ws_limits(settings),
        "limit_concurrency": cap + 1,
        "timeout_keep_alive": settings.keep_alive_s,
    }


async def _serve(settings: Settings, token: str | None) -> None:
    config = uvicorn.Config(
        # The collector tuned once the lifespan has started, as in each `--workers` process.
        create_app(settings, tune_gc_when_started=True),
        host=settings.host,
        port=settings.port,
        log_level="info",
        # JSON lines, no access log: hub.middleware.request_log writes one line per request.
        log_config=configure_logging(),
        access_log=False,
        **connection_options(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.1)
    if server.started:
        if token is not None:
            console.print(banner(settings, token), highlight=False, soft_wrap=True)
        else:
            console.print(f"GraphQL: http://{settings.host}:{settings.port}/graphql")
    await task


def _serve_workers(settings: Settings, workers: int, token: str | None) -> None:
    """``workers`` uvicorn processes on one port, each building the app from C360_* variables
    (hub.app.app_from_env). They share the data dir: the first to take the embedded graph's
    flock runs FalkorDB and the others connect to its socket (graph/embedded.py), secrets and
    the key ring are created race-free, and audit appends hold the log's flock, so the chain
    stays one chain across processes."""
    if settings.demo:
        # Seed once here, before the workers start: each would otherwise find the graph empty.
        run(_seed_demo(settings))
    os.environ |= {
        "C360_HOST": settings.host,
        "C360_PORT": str(settings.port),
        "C360_DEMO": str(settings.demo).lower(),
        "C360_INTROSPECTION": str(settings.introspection).lower(),
        "C360_GRAPHIQL": str(settings.graphiql).lower(),
        "C360_HEADER_TIMEOUT_S": str(settings.header_timeout_s),
        "C360_MAX_CONNECTIONS": str(settings.max_connections),
    }
    if token is not None:
        console.print(banner(settings, token), highlight=False, soft_wrap=True)
    else:
        url = f"http://{settings.host}:{settings.port}/graphql"
        console.print(f"GraphQL: {url} ({workers} workers)")
    options: dict[str, Any] = {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": workers,
        # uvicorn restarts a worker that has not finished startup within this many seconds
        # (default 5): a worker imports the whole hub and waits for the graph server, which
        # takes longer than 5 s on a busy machine, and would be killed in a loop.
        "timeout_worker_healthcheck": 120,
        "log_level": "info",
        "log_config": configure_logging(),
        "access_log": False,
        # Each worker sets its own limits again from C360_* (hub.app.app_from_env).
        **connection_options(settings),
    }
    if not reuse_port.supported():
        uvicorn.run("hub.app:app_from_env", **options)
        return
    # What uvicorn.run does for workers, with a socket of its own per worker
    # (hub/cli/reuse_port.py): the kernel spreads connections over the workers.
    config = uvicorn.Config("hub.app:app_from_env", **options)
    try:
        sock = reuse_port.listener(settings.host, settings.port)
    except OSError as exc:
        fail(listen_error(settings.host, settings.port, exc))
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


def _check_port(settings: Settings) -> None:
    """A port in use is named in one line with what holds it, before anything starts
    (uvicorn would log a bare "address already in use" once the graph had started)."""
    try:
        reuse_port.free_port(settings.host, settings.port)
    except OSError as exc:
        fail(listen_error(settings.host, settings.port, exc))


async def _seed_demo(settings: Settings) -> None:
    async with graph(settings) as store:
        await seed_demo_data(store, settings)


def serve(
    demo: Annotated[
        bool,
        typer.Option(help="seed demo data into an empty graph; enable GraphiQL and introspection"),
    ] = False,
    host: Annotated[str | None, typer.Option(help="default C360_HOST or 127.0.0.1")] = None,
    port: Annotated[
        # Checked here: the settings copy below is not validated, and uvicorn would bind the
        # port modulo 65536 (83036 -> 17500) while logging the number given.
        int | None, typer.Option(min=1, max=65535, help="default C360_PORT or 8000")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="processes serving the port (one graph server, key ring, audit chain)"
        ),
    ] = 1,
    max_connections: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="connections served at once (default C360_MAX_CONNECTIONS, else 3/4 of the "
            "open-file limit); more are closed at once",
        ),
    ] = None,
    header_timeout: Annotated[
        float | None,
        typer.Option(min=0.1, help="seconds a client has to send a request's headers (default 10)"),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="with --demo: who issues the dev token (audited); default: the OS user"),
    ] = None,
) -> None:
    """Serve GraphQL at /graphql (plus /healthz and /readyz)."""
    if by is not None and not demo:
        fail("--by names who issues the demo token: it goes with --demo (without --demo no "
             "token is issued)")  # fmt: skip
    settings = load_settings()
    updates: dict[str, object] = {}
    if host:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    if max_connections:
        updates["max_connections"] = max_connections
    if header_timeout:
        if not math.isfinite(header_timeout):  # as C360_HEADER_TIMEOUT_S: inf is no timeout
            fail("--header-timeout must be a finite number of seconds, e.g. 10")
        updates["header_timeout_s"] = header_timeout
    if demo:
        updates |= {"demo": True, "introspection": True, "graphiql": True}
    settings = settings.model_copy(update=updates)
    settings.resolved_data_dir  # noqa: B018 - a data dir that cannot be used fails here, readably
    load_catalogue(settings)  # so does a bad catalogue file, before any worker starts
    matcher(settings)  # and a terms file (C360_TERMS) that cannot be read
    try:  # and a key file lost or damaged: one sentence, never a hub failing every request
        check_keys(settings)
    except KeyFileError as exc:
        fail(escape(str(exc)))
    try:  # a bad allow-list is a user error, named before anything starts
        PersistedQueries.from_settings(settings.persisted_queries, settings.persisted_queries_only)
    except PersistedQueriesFileError as exc:
        fail(str(exc))
    _check_port(settings)
    token = None
    if demo:  # on record before the hub starts (no record: no token, nothing started)
        token = dev_token(settings, issuer(by))
    if workers > 1:
        _serve_workers(settings, workers, token)
        return
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve(settings, token))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when installed (a dependency; uvicorn's ``--workers`` path picks it
    by itself), else asyncio's: its callbacks, futures and socket handling took ~15 % of the
    hub's CPU per 360 query."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
