"""Who may be handed a demo token: only a browser on this machine, and only while the graph
holds nothing but the demo book.

``serve --demo`` mints a token for any role to whoever asks (the console's sign-in). That is
safe only on a developer's machine with made-up data, so:

- the hub answers only Host headers naming the loopback interface (a DNS-rebinding page, whose
  requests carry its own host name, gets 400), see :func:`loopback_only`;
- the endpoint takes only ``application/json`` bodies, which a browser sends cross-origin only
  after a CORS preflight the hub never allows (console/routes.py);
- the demo seeder records the customer ids it wrote (``demo-book.json`` in the data dir) and
  tokens are refused while the graph holds a customer outside them (an import, a graph that
  held customers before ``--demo``), see :class:`DemoBookGuard`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from console.routes import LOOPBACK_HOSTS as LOOPBACK_NAMES
from graph.errors import GraphError
from graph.store import GraphStore

log = logging.getLogger("c360.hub")

# The console's loopback names as a Host header carries them (IPv6 in brackets); the port is
# not compared.
LOOPBACK_HOSTS = tuple(f"[{h}]" if ":" in h else h for h in sorted(LOOPBACK_NAMES))
MARKER = "demo-book.json"
WRONG_HOST = (
    "this demo hub answers only requests for localhost or 127.0.0.1 (it guards its demo sign-in "
    "against DNS rebinding): open it as http://localhost:<port>/ or http://127.0.0.1:<port>/, "
    "or run `c360 serve` without --demo to serve on a real host name"
)
NOT_DEMO = (
    "demo tokens are off: this graph holds customers the demo did not seed (an import, or "
    "data from before --demo); sign in with a token from `c360 token`"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as uvicorn binds it) is a loopback name or address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_only(host: str) -> list[Middleware]:
    """A demo hub bound to loopback answers only Host: localhost / 127.0.0.1 / [::1] (any
    port): a DNS-rebinding page reaches the socket under its own name and gets 400. Bound
    elsewhere (a container's 0.0.0.0) the whole app cannot check this; the token endpoint
    still does (see console/routes.py), and the start-up log says so."""
    if not is_loopback(host):
        log.warning(
            "demo: serving on %s, not loopback; demo tokens are handed out only to requests "
            "for localhost, and the demo book is open to anyone who reaches the port",
            host,
        )
        return []
    return [Middleware(LoopbackHostOnly)]


def host_name(header: str | None) -> str | None:
    """The name in a Host header without its port (IPv6 kept in brackets), lower-cased;
    None for no header."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header if end < 0 else header[: end + 1]
    return header.split(":", 1)[0]


class LoopbackHostOnly:
    """Refuses (400) a request whose Host header names no loopback name, as JSON with what to
    do instead, like the hub's other HTTP refusals (Starlette's TrustedHostMiddleware, used
    before, answered text/plain "Invalid host header")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = host_name(Headers(scope=scope).get("host"))
            if host not in LOOPBACK_HOSTS:
                await JSONResponse({"error": WRONG_HOST}, 400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def record_demo_book(data_dir: Path, customer_ids: list[str]) -> None:
    """Remember the customers the demo seeder wrote (what demo tokens may reveal)."""
    (data_dir / MARKER).write_text(json.dumps({"customers": sorted(customer_ids)}), "utf-8")


async def record_seeded_book(store: GraphStore, data_dir: Path) -> None:
    """After a demo seed into an empty graph (``serve --demo`` or ``c360 seed``): every
    customer there is the demo's."""
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    record_demo_book(data_dir, [str(r["id"]) for r in rows])


def demo_book_ids(data_dir: Path) -> list[str] | None:
    """The ids the demo seeded into this data dir; None when it never did (or unreadable)."""
    try:
        doc = json.loads((data_dir / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    ids = doc.get("customers") if isinstance(doc, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else None


_ANY_CUSTOMER = "MATCH (c:Customer) RETURN c.id AS id LIMIT 1"
_OTHER_CUSTOMER = "MATCH (c:Customer) WHERE NOT c.id IN $ids RETURN c.id AS id LIMIT 1"


async def foreign_customer(store: GraphStore, data_dir: Path) -> bool:
    """Whether the graph holds a customer the demo seeder did not write."""
    ids = demo_book_ids(data_dir)
    if ids is None:
        return bool(await store.read(_ANY_CUSTOMER))
    return bool(await store.read(_OTHER_CUSTOMER, {"ids": ids}))


class DemoBookGuard:
    """(status, reason) to refuse a demo token now (None: hand it out): asked per mint, so an import
    into a running demo hub turns the tokens off at once. Graph unreachable: refused."""

    def __init__(
        self, data_dir: Path, get_store: Callable[[], Awaitable[GraphStore | None]]
    ) -> None:
        self.data_dir = data_dir
        self.get_store = get_store

    async def __call__(self) -> tuple[int, str] | None:
        store = await self.get_store()
        try:
            foreign = None if store is None else await foreign_customer(store, self.data_dir)
        except GraphError:
            foreign = None
        if foreign is None:
            return 503, "the graph is unavailable; try again shortly"
        if foreign:
            log.warning("demo: a demo token was refused: %s", NOT_DEMO)
            return 403, NOT_DEMO
        return None


__all__ = [
    "LOOPBACK_HOSTS",
    "NOT_DEMO",
    "WRONG_HOST",
    "DemoBookGuard",
    "LoopbackHostOnly",
    "demo_book_ids",
    "foreign_customer",
    "host_name",
    "is_loopback",
    "loopback_only",
    "record_demo_book",
    "record_seeded_book",
]
