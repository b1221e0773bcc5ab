"""The Starlette app: GraphQL over HTTP, health and readiness. Lifespan owns the graph store.

The graph is opened in the background: while it loads (or cannot be reached) the app serves,
/readyz answers 503 ("loading" or the reason) and GraphQL answers GRAPH_UNAVAILABLE until the
open, or a later retry, succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as RoutingError
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http import process_result as strawberry_process_result
from strawberry.http.exceptions import NonJsonMessageReceived, WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from console import console_routes, graphiql_html
from graph.connect import open_store
from graph.errors import GraphError, GraphLoading
from graph.store import GraphStore
from hub.audit_ready import AuditReadiness
from hub.demo_guard import DemoBookGuard, foreign_customer, loopback_only, record_seeded_book
from hub.demo_posts import seed_demo_posts
from hub.gc_tuning import tune_gc
from hub.graphql_http import (
    BAD_REQUEST,
    GRAPHQL_RESPONSE,
    OPERATION_NOT_SUPPORTED,
    BadBody,
    decode_body,
    is_request_error,
    refusal_body,
    refusal_code,
    response_media_type,
)
from hub.http_protocol import configure as configure_http
from hub.key_ready import key_problem
from hub.live import (
    IngestEvents,
    authenticate,
    brand_names,
    connection_context,
    context_maker,
    graph_watcher,
)
from hub.middleware.body_limit import BodyLimitMiddleware
from hub.middleware.request_log import RequestLogMiddleware
from hub.middleware.security_headers import SecurityHeadersMiddleware
from hub.middleware.timeout import TimeoutMiddleware
from hub.parent_watch import exit_with_parent
from hub.persisted import PersistedQueries, PersistedQueryError
from hub.rate_limit import RATE_LIMITED, RateLimiter, refusal_text, retry_after
from hub.services import (
    checkpointer,
    close_privacy,
    open_privacy,
    protect_store,
    sign_checkpoints,
)
from hub.settings import Settings
from hub.ws_transport import SubscriptionsOnlyHandler
from ingest.social.retag import upgrades as tag_upgrades
from ingest.social.terms import TermMatcher
from ingest.social.webhook import PostsWebhook, webhook_route
from insights.catalogue import configured_catalogue
from privacy.audit import AuditLog
from privacy.principal import AuthError, TokenVerifier
from privacy.secrets import KeyFileError
from privacy.services import PrivacyServices
from privacy.types import PolicyUnavailable, ProbedEngine
from resolvers.alert_schedule import AlertScheduler
from resolvers.context import RequestContext
from resolvers.event_bus import EventBus
from schema.extensions.request_log import current_facts
from schema.root import build_schema
from sentiment.scorer import ScorerConfig
from shared.datadir import secure_data_dir
from shared.echo import echo

log = logging.getLogger("c360.hub")

RETRY_AFTER_S = 1.0
# A request waits this long for a graph that is being opened before GRAPH_UNAVAILABLE.
REQUEST_WAIT_S = 0.5
LOADING = "loading"
# How long /readyz waits for the graph server's answer before it calls it unresponsive.
READY_PING_S = 2.0
DEMO_CUSTOMERS = 500

OpenPrivacy = Callable[[Settings], Awaitable[PrivacyServices]]


class GraphHolder:
    """The store, opened in the background so the hub listens while the graph loads its data
    (/healthz 200, /readyz 503 "loading", GraphQL GRAPH_UNAVAILABLE); reopened on demand (at
    most once a second) while the graph is unreachable."""

    def __init__(
        self,
        settings: Settings,
        store: GraphStore | None = None,
        on_open: Callable[[GraphStore], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.store: GraphStore | None = store
        self._owned = store is None
        self.error = "the graph has not been opened yet"
        # The last open failed on the keys, not the graph (/readyz says "keys").
        self.keys_failed = False
        self._on_open = on_open
        self._opening: asyncio.Task[None] | None = None
        self._next_try = 0.0
        # The brand-tag upgrade judges by the terms ingest tags with (C360_TERMS).
        self._upgrades = tag_upgrades(settings.terms)

    @property
    def loading(self) -> bool:
        return self._opening is not None and not self._opening.done()

    def start(self) -> None:
        """Start opening the store unless it is open, opening, or failed under a second ago."""
        if self.store is not None or self.loading or time.monotonic() < self._next_try:
            return
        self.error, self.keys_failed = LOADING, False
        self._opening = asyncio.create_task(self._open(), name="open-graph")

    async def wait(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for an open in progress."""
        if self._opening is not None and not self._opening.done():
            await asyncio.wait({self._opening}, timeout=timeout_s)

    async def get(self) -> GraphStore | None:
        if self.store is None:
            self.start()
            await self.wait(REQUEST_WAIT_S)
        return self.store

    async def open(self) -> None:
        """Open now (and wait for it, however long loading takes)."""
        self.start()
        if self._opening is not None:
            await asyncio.wait({self._opening})

    async def _open(self) -> None:
        s = self.settings
        self._owned = True
        try:
            # A read the request has given up on (C360_REQUEST_TIMEOUT_S) is stopped by the
            # graph server too, not left running for every other request to queue behind.
            store = await open_store(
                s.resolved_data_dir,
                s.graph_url,
                **s.graph_options,
                read_timeout_s=s.request_timeout_s,
                more_upgrades=self._upgrades,
            )
        except Exception as exc:
            # Any failure to open (some drivers raise their own types while connecting)
            # leaves the app up and answering GRAPH_UNAVAILABLE until a retry succeeds.
            self.error = f"unreachable: {exc}"
            self._next_try = time.monotonic() + RETRY_AFTER_S
            log.warning("graph %s", self.error)
            return
        try:
            protect_store(store, s)
        except KeyFileError as exc:
            # Not the graph's fault: /readyz names the key file (never serve without sealing).
            await store.close()
            self.error, self.keys_failed = f"{KEYS_DOWN}{exc}", True
            self._next_try = time.monotonic() + RETRY_AFTER_S
            log.error("%s", exc)
            return
        try:
            if self._on_open is not None:
                await self._on_open(store)
        except asyncio.CancelledError:
            await store.close()  # shut down while seeding: leave nothing running
            raise
        except Exception as exc:
            # Not ready on a start-up step cut short (the demo book half seeded or empty):
            # QA, session 26, a hub that had logged the failure said ready with an empty book.
            # A graph that went away is tried again as an open is; any other failure stays
            # until the operator fixes it and restarts.
            with contextlib.suppress(Exception):  # a server gone may fail the close too
                await store.close()
            self.error = f"opened, but its start-up step failed: {exc}; fix it and restart"
            if isinstance(exc, (GraphError, OSError)):  # a connection lost: may come back
                self.error = f"unreachable during its start-up step: {exc}"
                self._next_try = time.monotonic() + RETRY_AFTER_S
            else:
                self._next_try = math.inf
            log.exception("graph %s", self.error)
            return
        self.store = store

    async def close(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()  # open_store stops a server it was still starting
            with contextlib.suppress(asyncio.CancelledError):
                await self._opening
        if self.store is not None and self._owned:
            await self.store.close()
            self.store = None


class PrivacyHolder:
    """The privacy services, opened in the lifespan."""

    def __init__(self) -> None:
        self.services: PrivacyServices | None = None

    def for_request(self) -> PrivacyServices:
        # Not opened (yet, or it failed): an empty set of services denies everything.
        return self.services or PrivacyServices(engine=None, audit=None, hmac_key=b"")


class _NegotiatedResponse(Response):
    """Strawberry's sub-response, carrying what the request asked for (media type) and what
    the result turned out to be (a request error) from process_result to create_response."""

    media_type_wanted = "application/json"
    request_error = False


class _TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages as text frames, as the protocol and browser clients
    expect (``encode_json`` gives bytes, which strawberry would send as binary frames)."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        # decode_json refuses a body that is not JSON (or nests too deep) with an HTTP 400,
        # which a socket cannot send (it ended the connection with "Exception in ASGI
        # application"): as a frame, it closes the socket 4400 as the protocol says.
        try:
            async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
                yield message
        except HTTPException as exc:
            raise NonJsonMessageReceived from exc

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


# The methods /graphql answers (HEAD as GET without the content, OPTIONS with this list):
# the Allow of its 405s and of OPTIONS.
ALLOW = "GET, HEAD, POST, OPTIONS"


def _without_content(send: Send) -> Send:
    """``send`` passing the response's start (status, headers, Content-Length) but no content."""

    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return head


class _Refused(HTTPException):
    """A request refused before execution, with the code its GraphQL-shaped body carries."""

    def __init__(self, status: int, reason: str, code: str) -> None:
        super().__init__(status, reason)
        self.code = code


# Over HTTP: queries and mutations; subscriptions are the websocket's (README, Subscriptions).
HTTP_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class _StrawberryApp(GraphQL[RequestContext, None]):
    websocket_adapter_class = _TextFrames
    graphql_transport_ws_handler_class = SubscriptionsOnlyHandler

    def __init__(
        self,
        settings: Settings,
        holder: GraphHolder,
        privacy: PrivacyHolder,
        bus: EventBus | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_s),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.holder = holder
        self.privacy = privacy
        self.persisted = PersistedQueries.from_settings(
            settings.persisted_queries, settings.persisted_queries_only
        )
        self.bus = bus or EventBus(settings.subscription_queue)
        self.brands = brand_names(settings.terms)
        self._verifier: TokenVerifier | None = None
        # Requests per token subject, POSTs and websocket subscribes alike (hub/rate_limit.py).
        self.rate_limiter = RateLimiter.from_settings(settings)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if request_adapter.method != "POST":
            # GET serves the GraphiQL page only: an operation in a query string is refused
            # before it is parsed (GraphQLEndpoint authenticates POSTs; nothing else runs).
            raise _Refused(
                405,
                "GraphQL operations are POSTed with a bearer token; GET serves only the "
                "GraphiQL page",
                refusal_code(405),
            )
        # Persisted queries (hub/persisted.py): a hash may stand for the document, and in
        # "only" mode other documents are refused before they are parsed.
        try:
            query = self.persisted.resolve(
                request_data.query, request_data.extensions, context.principal.subject
            )
        except PersistedQueryError as exc:
            if exc.code == BAD_REQUEST:  # not the protocol's extension: the request is bad
                raise _Refused(400, exc.message, BAD_REQUEST) from exc
            error = GraphQLError(exc.message, extensions={"code": exc.code})
            return ExecutionResult(data=None, errors=[error])
        # Strawberry's execute_single, with subscriptions refused (they would run as a query
        # and fail inside graphql-core) and every refusal carrying a code.
        try:
            return await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            # Strawberry's reason repeats the operationName whole: ours caps it (shared/echo.py).
            name = exc.operation_name
            reason = (
                exc.as_http_error_reason()
                if name is None
                else f'Unknown operation named "{echo(name)}".'
            )
            raise _Refused(400, reason, BAD_REQUEST) from exc
        except InvalidOperationTypeError as exc:
            raise _Refused(
                400,
                "over HTTP a subscription is refused; subscribe over the websocket "
                "(graphql-transport-ws) on this path",
                OPERATION_NOT_SUPPORTED,
            ) from exc
        except MissingQueryError as exc:
            raise _Refused(400, "No GraphQL query found in the request", BAD_REQUEST) from exc

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: Any,
        context: Any,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        streamed = False
        try:
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
            streamed = not isinstance(result, ExecutionResult | list)
            return result
        finally:
            # Answered (or failed): free what the request loaded now, not at the next full
            # garbage collection (RequestContext.release). A streamed result still runs.
            if not streamed and isinstance(context, RequestContext):
                context.release()

    @property
    def graphql_ide_html(self) -> str:
        # GraphiQL from the console's vendored files, not strawberry's CDN page: closed networks.
        return graphiql_html()

    async def get_context(self, request: Any, response: Any) -> Any:
        store = await self.holder.get()
        state = request.scope.get("state", {})
        if isinstance(request, WebSocket):
            base = RequestContext(
                settings=self.settings,
                store_or_none=store,
                principal=None,
                request_id=uuid.uuid4().hex,
                graph_error=self.holder.error,
                privacy_services=self.privacy.for_request(),
                brands=self.brands,
            )
            make = context_maker(
                self.settings,
                self.holder.get,
                lambda: self.holder.error,
                self.privacy.for_request,
                self.brands,
            )
            return connection_context(make, base, self.bus)
        return RequestContext(
            settings=self.settings,
            store_or_none=store,
            principal=state.get("principal"),
            # Set (and checked) by RequestLogMiddleware; never the raw header.
            request_id=state.get("request_id") or uuid.uuid4().hex,
            graph_error=self.holder.error,
            privacy_services=self.privacy.for_request(),
            brands=self.brands,
        )

    async def on_ws_connect(self, context: Any) -> Any:
        """graphql-transport-ws connection_init: the JWT in its payload, or close 4403."""
        if self._verifier is None:
            self._verifier = TokenVerifier.from_settings(self.settings)
        context.principal = authenticate(self._verifier, context.connection_params)
        return await super().on_ws_connect(context)

    # --- GraphQL over HTTP: body parsing, media type and status codes (hub/graphql_http.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            # HEAD is GET without the content (RFC 9110, 9.3.2): GET's status and headers.
            await self({**scope, "method": "GET"}, receive, _without_content(send))
            return
        if scope["method"] == "OPTIONS":
            # RFC 9110, 9.3.7: the methods, no content (strawberry answered 405). The hub
            # configures no CORS, so no Access-Control-Allow-* either: a cross-origin page's
            # preflight is answered and still not allowed, as before.
            await Response(status_code=204, headers={"Allow": ALLOW})(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            # Strawberry answers these as text/plain; ours are JSON with a code, as every
            # other GraphQL error (bad JSON, batches, content type, variables, operationName).
            code = exc.code if isinstance(exc, _Refused) else refusal_code(exc.status_code)
            reason = exc.reason
            if exc.status_code == 405 and not isinstance(exc, _Refused):
                # Strawberry's "only supports GET and POST" left out HEAD and OPTIONS.
                reason = f"/graphql answers {ALLOW}; operations are POSTed with a bearer token"
            media = response_media_type(request.headers.get("accept"))
            response = Response(
                orjson.dumps(refusal_body(reason, code)),
                exc.status_code,
                {"Allow": ALLOW} if exc.status_code == 405 else None,
                media_type=f"{media}; charset=utf-8",
            )
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str | bytes:
        # orjson: a 360 answer encodes in a tenth of json.dumps's time, UTF-8 not \u escapes.
        try:
            return orjson.dumps(data)
        except TypeError:  # what orjson refuses (e.g. ints above 64 bits): the standard way
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        try:
            return decode_body(data)
        except BadBody as exc:
            raise HTTPException(400, str(exc)) from exc

    async def get_sub_response(self, request: Any) -> Response:
        sub = _NegotiatedResponse()
        sub.status_code = None  # type: ignore[assignment]
        del sub.headers["content-length"]
        sub.media_type_wanted = response_media_type(request.headers.get("accept"))
        request.scope.setdefault("state", {})["graphql_sub_response"] = sub
        return sub

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = strawberry_process_result(result)
        sub = request.scope.get("state", {}).get("graphql_sub_response")
        if (
            isinstance(sub, _NegotiatedResponse)
            and sub.media_type_wanted == GRAPHQL_RESPONSE
            and is_request_error(result.data, result.errors)
        ):
            # The spec: a request that never executed has no data entry and a 4xx status.
            body.pop("data", None)
            sub.request_error = True
        return body

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(sub_response, _NegotiatedResponse):
            response.headers["content-type"] = f"{sub_response.media_type_wanted}; charset=utf-8"
            if sub_response.request_error and not sub_response.status_code:
                response.status_code = 400
        return response


class GraphQLEndpoint:
    """POST needs a valid bearer token (401/403 JSON otherwise), then a request from its
    subject's bucket (429 JSON with Retry-After otherwise: hub/rate_limit.py); GET serves
    GraphiQL and runs nothing (HEAD: GET's answer without the content); OPTIONS lists the
    methods (204); any other method is refused (405) by the view."""

    def __init__(
        self,
        settings: Settings,
        holder: GraphHolder,
        privacy: PrivacyHolder,
        bus: EventBus | None = None,
    ) -> None:
        self.graphql = _StrawberryApp(settings, holder, privacy, bus)
        self.settings = settings
        self._verifier: TokenVerifier | None = None

    @property
    def verifier(self) -> TokenVerifier:
        # Built on first use so creating the app touches no files.
        if self._verifier is None:
            self._verifier = TokenVerifier.from_settings(self.settings)
        return self._verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            request = Request(scope)
            try:
                principal = self.verifier.authenticate(request.headers)
            except AuthError as exc:
                headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                response = JSONResponse({"error": str(exc)}, exc.status, headers=headers)
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
            # After authentication: a bad token gets its 401 and no bucket (no table of
            # made-up subjects); before any parse, graph or policy work.
            wait = self.graphql.rate_limiter.take(principal.subject)
            if wait:
                await self._throttled(wait)(scope, receive, send)
                return
        await self.graphql(scope, receive, send)

    @staticmethod
    def _throttled(wait_s: float) -> Response:
        facts = current_facts.get()
        if facts is not None:  # the request log's line: refused, error_codes [RATE_LIMITED]
            facts.error_codes.append(RATE_LIMITED)
        return JSONResponse(
            {"error": refusal_text(wait_s)}, 429, headers={"Retry-After": str(retry_after(wait_s))}
        )


async def routing_error(request: Request, exc: Exception) -> Response:
    """The router's own refusals (no such path, a method the route does not take) as JSON,
    like every other HTTP-level refusal of the hub; Starlette answers them as text/plain."""
    assert isinstance(exc, RoutingError)
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


KEYS_DOWN = "unavailable: "
POLICY_DOWN = "unavailable: the policies cannot be evaluated (the server log says why)"
# An absolute path in a reason: /readyz answers anyone, so it names the file only.
_PATH = re.compile(r"(?<![\w.~:/])/(?:[^\s/'\"]+/)+(?=[^\s/'\"])")


def without_paths(reason: str) -> str:
    """``reason`` with each absolute path cut to its last part (``see falkordb.log``)."""
    return _PATH.sub("", reason)


async def readyz(request: Request) -> JSONResponse:
    holder: GraphHolder = request.app.state.graph
    privacy: PrivacyHolder = request.app.state.privacy
    if privacy.services is None or privacy.services.engine is None:
        # Every request touching personal data would answer POLICY_UNAVAILABLE: not ready.
        return JSONResponse({"policy": POLICY_DOWN}, 503)
    engine = privacy.services.engine
    if isinstance(engine, ProbedEngine):
        # An OPA server that went away after the start: decisions fail closed, so not ready.
        try:
            await asyncio.wait_for(engine.health(), READY_PING_S)
        except TimeoutError:  # its str() is empty
            return JSONResponse(
                {"policy": f"unavailable: no answer within {READY_PING_S:g} s"}, 503
            )
        except PolicyUnavailable as exc:
            return JSONResponse({"policy": f"unavailable: {exc or 'no answer'}"}, 503)
    audit = privacy.services.audit
    readiness: AuditReadiness = request.app.state.audit_readiness
    problem = readiness.problem(audit if isinstance(audit, AuditLog) or audit is None else None)
    if problem is not None:
        return JSONResponse({"audit": problem}, 503)
    store = await holder.get()
    if store is None:
        # The reason may name a server path (see .../falkordb.log): the log has it whole
        # (GraphHolder), the public answer names the file only.
        if holder.keys_failed:
            return JSONResponse({"keys": without_paths(holder.error)}, 503)
        return JSONResponse({"graph": without_paths(holder.error)}, 503)
    try:
        # A graph server that accepts but does not answer (paused, swapping) is not ready:
        # say so in time, rather than leave the probe to its own timeout.
        await asyncio.wait_for(store.ping(), READY_PING_S)
    except GraphLoading:
        return JSONResponse({"graph": LOADING}, 503)
    except GraphError as exc:
        return JSONResponse({"graph": without_paths(f"unreachable: {exc}")}, 503)
    except TimeoutError:
        return JSONResponse({"graph": f"unresponsive: no answer within {READY_PING_S:g} s"}, 503)
    # Keys lost or damaged since they were loaded: the next write (or start) would fail.
    problem = await asyncio.to_thread(key_problem, store, request.app.state.settings)
    if problem is not None:
        return JSONResponse({"keys": without_paths(KEYS_DOWN + problem)}, 503)
    # Ready; a warning (the audit disk nearly full) is said, not made a failure.
    return JSONResponse(
        {"graph": "ok"} | ({"audit": readiness.warning} if readiness.warning else {})
    )


async def seed_demo_if_empty(
    store: GraphStore, customers: int = DEMO_CUSTOMERS, data_dir: Path | None = None
) -> None:
    """Seed the demo data set into an empty graph (``serve --demo``), and record the customers
    it wrote in ``data_dir`` (hub/demo_guard.py: demo tokens only for a demo book)."""
    if await store.read("MATCH (c:Customer) RETURN c.id AS id LIMIT 1"):
        if data_dir is not None and await foreign_customer(store, data_dir):
            log.warning(
                "demo: the graph holds customers the demo did not seed (imported or earlier "
                "data); not seeding, and the console hands out NO demo tokens on this book"
            )
        else:
            log.info("demo: the graph already holds the demo book; not seeding")
        return
    from hub.demo import seed_demo  # Faker and the generator load only for --demo

    counts = await seed_demo(store, customers=customers, progress=True)
    log.info("demo: seeded %s", counts)
    if data_dir is not None:
        await record_seeded_book(store, data_dir)
    await store.compact()  # a bulk job: the next start loads a snapshot, not the log


async def seed_demo_data(store: GraphStore, settings: Settings) -> None:
    """``serve --demo``: the demo book into an empty graph, then the demo social stream's
    posts not stored yet (hub/demo_posts.py), so the brand pages have data at once."""
    await seed_demo_if_empty(store, data_dir=settings.resolved_data_dir)
    posts = await seed_demo_posts(
        store,
        scorer_config=ScorerConfig(
            settings.sentiment_model, settings.sentiment_positive, settings.sentiment_negative
        ),
        matcher=TermMatcher.load(settings.terms),
    )
    if posts:
        await store.compact()


def app_from_env() -> Starlette:
    """The hub configured from C360_* variables: the factory each ``serve --workers`` process
    builds (``uvicorn hub.app:app_from_env --factory --workers N``). Each worker tunes its
    garbage collector once started, as the single-process ``c360 serve`` does (hub/gc_tuning.py):
    workers used to run with CPython's defaults, a young collection every 700 allocations."""
    exit_with_parent()  # a worker left behind by a killed supervisor would hold the port
    settings = Settings()
    configure_http(settings)  # this worker's header timeout and connection cap
    return create_app(settings, tune_gc_when_started=True)


def create_app(
    settings: Settings,
    *,
    store: GraphStore | None = None,
    open_services: OpenPrivacy = open_privacy,
    tune_gc_when_started: bool = False,
) -> Starlette:
    """The hub. ``store``: an already open store to use (and leave open), e.g. in tests.
    ``open_services``: how the lifespan opens the privacy services; only
    bench/privacy_overhead.py passes another (privacy.allow_all, to measure what the privacy
    layer costs). ``tune_gc_when_started``: freeze what start-up built and raise the young
    generation's threshold at the end of the lifespan's start (a serving process of its own:
    ``c360 serve``, with or without workers; it changes the whole interpreter's collector).
    A catalogue file that does not validate raises CatalogueError here, before anything starts:
    serving the packaged products instead would recommend what the bank does not sell."""
    configured_catalogue(settings.resolved_data_dir, settings.catalogue)
    on_open = partial(seed_demo_data, settings=settings) if settings.demo else None
    holder = GraphHolder(settings, store, on_open=on_open)
    privacy_holder = PrivacyHolder()
    bus = EventBus(settings.subscription_queue)
    scheduler = AlertScheduler(settings, holder.get, bus)
    watcher = graph_watcher(bus, holder.get, settings.live_poll_s, scheduler)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Before the graph child starts: it inherits the umask (its files 0600, dirs 0700).
        secure_data_dir(settings.resolved_data_dir)
        signing: asyncio.Task[None] | None = None
        privacy_holder.services = await open_services(settings)
        if store is not None:
            protect_store(store, settings)
        if isinstance(privacy_holder.services.audit, AuditLog):
            signer = checkpointer(settings, privacy_holder.services.audit.keyring)
            if signer is not None:
                signing = asyncio.create_task(sign_checkpoints(signer))
        # A graph replaying its files must not keep the hub from listening: wait briefly,
        # then serve /healthz and "loading" while the open goes on in the background.
        holder.start()
        await holder.wait(settings.graph_start_grace_s)
        if store is not None and settings.demo:
            await seed_demo_data(store, settings)
        scheduler.start()
        watcher.start()
        if tune_gc_when_started:
            tune_gc()
        try:
            yield
        finally:
            await watcher.stop()
            await scheduler.stop()
            try:
                # The audit log's last batch is written before the signer's final
                # checkpoint, which then covers it.
                if privacy_holder.services is not None:
                    await close_privacy(privacy_holder.services)
            finally:
                if signing is not None:
                    signing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await signing
                await holder.close()

    graphql = GraphQLEndpoint(settings, holder, privacy_holder, bus)
    # Other features add their routes to this list.
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        # Every method reaches the view, which answers OPTIONS and refuses all but GET, HEAD
        # and POST with a JSON METHOD_NOT_ALLOWED (the router's own 405 is text/plain).
        Route("/graphql", graphql),
        # Subscriptions: the same path, over a websocket (graphql-transport-ws).
        WebSocketRoute("/graphql", graphql),
        webhook_route(
            PostsWebhook(
                settings.webhook_secret,
                scorer_config=ScorerConfig(
                    settings.sentiment_model,
                    settings.sentiment_positive,
                    settings.sentiment_negative,
                ),
                matcher=TermMatcher.load(settings.terms),
                on_written=IngestEvents(bus, lambda: scheduler),
            )
        ),
        *console_routes(
            settings.resolved_data_dir,
            demo=settings.demo,
            audit=lambda: privacy_holder.for_request().audit,
            guard=DemoBookGuard(settings.resolved_data_dir, holder.get),
        ),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={RoutingError: routing_error},
        middleware=[
            # Outermost: it logs the 413s and 504s of the layers below too.
            Middleware(
                RequestLogMiddleware, routes=[r.path for r in routes if isinstance(r, Route)]
            ),
            Middleware(SecurityHeadersMiddleware),
            # serve --demo on loopback: Host must name loopback (DNS rebinding), hub/demo_guard.py.
            *(loopback_only(settings.host) if settings.demo else []),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(
                TimeoutMiddleware,
                timeout_s=settings.request_timeout_s,
                body_grace_s=settings.header_timeout_s,
                min_body_rate=settings.min_body_rate,
            ),
        ],
    )
    # No 307 from /graphql/ to /graphql (nor for any other path): a client that POSTs a
    # query to a path the hub does not serve gets the router's JSON 404, not a redirect that
    # some clients follow as a GET (dropping the body) or re-send with the token.
    app.router.redirect_slashes = False
    app.state.graph = holder
    app.state.privacy = privacy_holder
    app.state.audit_readiness = AuditReadiness()
    app.state.settings = settings
    app.state.rate_limiter = graphql.graphql.rate_limiter
    app.state.bus = bus
    app.state.alert_scheduler = scheduler
    app.state.graph_watcher = watcher
    return app


__all__ = [
    "GraphHolder",
    "GraphQLEndpoint",
    "PrivacyHolder",
    "app_from_env",
    "create_app",
    "seed_demo_data",
    "seed_demo_if_empty",
]
