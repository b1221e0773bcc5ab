"""uvicorn's HTTP protocol (httptools) with what it lacks against slow clients.

uvicorn times out an idle keep-alive connection (``timeout_keep_alive``) but not one that is
still sending its request line and headers, and it accepts every connection: 1,100 sockets
sending half a header each held 1,100 file descriptors until the process hit its limit
(``ulimit -n 1024``), and then /healthz and the audit checkpoints failed with EMFILE.
``limit_concurrency`` does not help there: it answers 503 only once a request's headers are in.

So each connection gets ``header_timeout_s`` to send its headers (from its first byte, and
again for each request on a kept-alive connection), and at ``max_connections`` a new
connection takes the place of the one that has waited longest without sending complete
headers (a slow client's), or is closed at once when there is none, freeing its descriptor.
A connection that has sent its headers and is still sending its body is evictable too, after
those and after idle websockets: the one furthest behind ``min_body_rate`` bytes a second since
its headers goes first (a connection trickling a byte a second before a steady upload). Before,
25 sockets with a valid token, each trickling its body, held a cap of 20 until the request
timeout (15 s) and /healthz was refused throughout (QA, session 26); a fresh client would only
get in once they were cut. hub/middleware/timeout.py answers 408 to a body that falls more than
``header_timeout_s`` behind that rate. Set once per process by :func:`configure` (``c360 serve``
and each ``--workers`` process, from C360_* settings). Behind a reverse proxy that enforces
header timeouts these are a second line; for internet-facing use the proxy belongs in front
(README, Operations).

A request's line and headers may take ``max_header_bytes`` together: httptools has no such
limit and buffers a header until it ends (a 10 MB header was held whole, then the connection
dropped without an answer). Beyond it the hub answers 431 with a JSON error, stops reading
(what the client still sends is discarded, so it can read the answer rather than a reset) and
closes the connection once the client does, or after ``header_timeout_s``.

Websockets count towards the cap too (uvicorn keeps one set of connections), and one that has
not authenticated yet (no graphql-transport-ws ``connection_init`` with a valid token) is as
evictable as a slow client: 110 idle sockets against a cap of 100 locked everyone out (the
oldest such socket is closed 4408 when nobody is slow with headers). The app marks a socket
authenticated through :data:`WS_GUARD` in its scope (hub/ws_transport.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hub.slowest_first import SlowestFirst
from shared.settings import Settings

log = logging.getLogger("c360.hub")

# uvicorn's ``http`` option: an import string, so ``--workers`` processes load it too.
PROTOCOL = "hub.http_protocol:GuardedHttpTools"
# uvicorn's ``ws`` option: websockets' sans-I/O implementation (its legacy one is deprecated),
# evictable until authenticated.
WS_PROTOCOL = "hub.http_protocol:GuardedWebSockets"
# The websocket scope's key of its GuardedWebSockets (absent under another server).
WS_GUARD = "c360.ws_guard"
# graphql-transport-ws: no connection_init (with a valid token) in time.
NOT_INITIALISED = 4408
EVICTED = "evicted: no connection_init with a valid token before the connection cap was reached"
# Descriptors kept free for what is not a client connection (the graph pool, audit and key
# files, the listening socket, logs): the cap leaves at least this many, or a quarter.
RESERVED_FDS = 128
# A refused-connection warning at most this often (a flood would otherwise flood the log).
WARN_EVERY_S = 10.0
TOO_LARGE = "431 Request Header Fields Too Large"


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (allowed without privileges) and return
    the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit to %s: %s", wanted, exc)
    return soft


def connection_cap(fd_limit: int, configured: int = 0) -> int:
    """Connections served at once: ``configured`` when set (>0), else well below the fd limit
    (a quarter of it, and at least RESERVED_FDS, kept for everything else)."""
    if configured > 0:
        return configured
    return max(16, min(fd_limit - RESERVED_FDS, fd_limit * 3 // 4))


# The blank line that ends a request head (the parser refuses a bare LF one with 400).
_HEAD_END = b"\r\n\r\n"


def _head_part(tail: bytes, data: bytes) -> int:
    """How many bytes of ``data`` belong to a request head whose previous chunk ended with
    ``tail`` (its last 3 bytes): all of them, or up to the blank line that ends the head.
    Only the seam is joined: a chunk is up to 256 KiB, and this runs on every request."""
    seam = (tail + data[:3]).find(_HEAD_END)
    if seam >= 0:  # begun in the tail: earlier than any end found in ``data`` alone
        return seam + len(_HEAD_END) - len(tail)
    end = data.find(_HEAD_END)
    return len(data) if end < 0 else end + len(_HEAD_END)


class GuardedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol with a header timeout and a hard connection cap (see module doc)."""

    header_timeout_s: float = 10.0
    max_header_bytes: int = 65_536
    max_connections: int | None = None
    min_body_rate: float = 1_000.0
    _last_warning: dict[str, float] = {}  # noqa: RUF012 (per kind, process-wide)
    # Connections still sending a request's headers, oldest first (process-wide).
    _waiting: dict[GuardedHttpTools, None] = {}  # noqa: RUF012
    # Connections still sending a request's body, furthest behind min_body_rate first.
    _bodies: SlowestFirst[GuardedHttpTools] = SlowestFirst()
    # When the current request's headers were in, and its body bytes since.
    _body_began: float = 0.0
    _body_bytes: int = 0

    _header_timer: asyncio.TimerHandle | None = None
    # Bytes of the current request's line and headers so far (None once they are complete).
    _head_bytes: int | None = None
    # The last bytes of the head so far: a blank line may be split between two chunks.
    _head_tail: bytes = b""
    # Answered 431: what the client still sends is discarded until it closes.
    _refused: bool = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = type(self).max_connections
        if cap is not None and len(self.connections) > cap and not self._make_room(cap):
            self._warn("cap", f"connection refused: {cap} connections open (C360_MAX_CONNECTIONS)")
            self.connections.discard(self)  # out of uvicorn's count now, as below
            transport.close()
            return
        self._start_header_timer()

    def _make_room(self, cap: int) -> bool:
        """Close the connection this one takes the place of (see the module doc); False when
        none may go."""
        slowest = next(iter(GuardedHttpTools._waiting), None)
        if slowest is not None:
            self._warn("evict", f"{cap} connections open: closing the slowest to send headers")
            slowest._cancel_header_timer()
        elif (idle := next(iter(GuardedWebSockets.unauthenticated), None)) is not None:
            self._warn("evict-ws", f"{cap} connections open: closing an idle websocket")
            idle.evict()
            return True
        elif (slowest := GuardedHttpTools._bodies.earliest()) is not None:
            self._warn(
                "evict-body",
                f"{cap} connections open: closing the slowest to send its request body "
                f"(C360_MIN_BODY_RATE)",
            )
            GuardedHttpTools._bodies.discard(slowest)
        else:
            return False
        slowest.transport.close()
        # Out of the count now, not when its connection_lost runs: uvicorn's own limit
        # counts the open connections when this one's headers are in.
        self.connections.discard(slowest)
        return True

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._header_timer is None and not self.cycle_in_flight():
            # The first byte of a next request on a kept-alive connection: its headers too.
            self._start_header_timer()
        if self._head_bytes is not None:
            # Counted before the parser sees the chunk, up to the blank line that ends the
            # head when it is in it: asyncio hands over up to 256 KiB at once, and a head
            # under that which ended in one chunk was parsed whole before it was counted.
            head = _head_part(self._head_tail, data)
            over = self._head_bytes + head > type(self).max_header_bytes
            if over and not self.cycle_in_flight():
                self._headers_too_large()
                return
            self._head_bytes += head
            self._head_tail = (self._head_tail + data[-3:])[-3:]
            if over:
                # The head of a request pipelined behind one still being answered (a 431
                # now would cut into that answer): read nothing more until the answer is out
                # (uvicorn resumes reading then); the count goes on and refuses it after.
                super().data_received(data)
                self.flow.pause_reading()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self._head_bytes = None
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not cycle:  # a request (an upgrade has none): its body may follow
            self._body_began, self._body_bytes = time.monotonic(), 0
            GuardedHttpTools._bodies.set(self, self._body_began)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self in GuardedHttpTools._bodies:
            self._body_bytes += len(body)
            due = self._body_began + self._body_bytes / type(self).min_body_rate
            GuardedHttpTools._bodies.set(self, due)

    def on_message_complete(self) -> None:
        GuardedHttpTools._bodies.discard(self)
        super().on_message_complete()
        if self.cycle_in_flight():
            # What follows is the head of a request pipelined behind this one: counted too
            # (httptools would otherwise buffer an endless one while this one is answered).
            self._head_bytes, self._head_tail = 0, b""

    def on_response_complete(self) -> None:
        # Answered before its body was all in (a 401, a 413): what still comes is read as
        # the next request's head (data_received), under the header timeout. (Not when a
        # request pipelined behind it is the current one: its body is still to come.)
        if self.cycle is None or self.cycle.response_complete:
            GuardedHttpTools._bodies.discard(self)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        GuardedHttpTools._bodies.discard(self)
        super().connection_lost(exc)

    def cycle_in_flight(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _start_header_timer(self) -> None:
        self._cancel_header_timer()
        self._head_bytes = 0
        self._head_tail = b""
        self._header_timer = self.loop.call_later(
            type(self).header_timeout_s, self._headers_too_slow
        )
        GuardedHttpTools._waiting[self] = None

    def _cancel_header_timer(self) -> None:
        GuardedHttpTools._waiting.pop(self, None)
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        GuardedHttpTools._waiting.pop(self, None)
        if not self.transport.is_closing():
            self._warn(
                "headers",
                f"connection closed: no complete request headers within "
                f"{type(self).header_timeout_s:g} s (C360_HEADER_TIMEOUT_S)",
            )
            self.transport.close()

    def _headers_too_large(self) -> None:
        """Answer 431 and stop reading; closed when the client closes, at the latest after
        header_timeout_s (its timer takes the header timer's place)."""
        limit = type(self).max_header_bytes
        self._warn("too-large", f"431: request headers over {limit} bytes (C360_MAX_HEADER_BYTES)")
        self._cancel_header_timer()
        self._head_bytes = None
        self._refused = True
        body = json.dumps(
            {
                "error": f"request line and headers over {limit} bytes "
                "(C360_MAX_HEADER_BYTES): send fewer or shorter headers"
            }
        ).encode()
        head = [
            f"HTTP/1.1 {TOO_LARGE}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "x-content-type-options: nosniff",
            "connection: close",
        ]
        self.transport.write("\r\n".join([*head, "", ""]).encode() + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            # Still evictable at the cap, like a slow client: it holds a descriptor.
            self._header_timer = self.loop.call_later(
                type(self).header_timeout_s, self.transport.close
            )
            GuardedHttpTools._waiting[self] = None
        else:
            self.transport.close()

    @classmethod
    def _warn(cls, kind: str, message: str) -> None:
        now = time.monotonic()
        if now - cls._last_warning.get(kind, -WARN_EVERY_S) >= WARN_EVERY_S:
            cls._last_warning[kind] = now
            log.warning("%s", message)


class GuardedWebSockets(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol; evictable at the cap until the app calls
    :meth:`authenticated` (see module doc)."""

    # Sockets the app has not yet called authenticated() for, oldest first (process-wide).
    unauthenticated: dict[GuardedWebSockets, None] = {}  # noqa: RUF012

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        GuardedWebSockets.unauthenticated[self] = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # Set before the app's task first runs (it was only scheduled).
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope[WS_GUARD] = self

    def authenticated(self) -> None:
        GuardedWebSockets.unauthenticated.pop(self, None)

    def evict(self) -> None:
        """Close now (4408 once the handshake is done) and leave the count at once: the
        connection that takes its place is counted before this one's connection_lost runs."""
        GuardedWebSockets.unauthenticated.pop(self, None)
        self.connections.discard(self)
        if self.handshake_complete and not self.close_sent and not self.transport.is_closing():
            # What uvicorn does when the app closes, done here: the app is waiting to receive.
            self.queue.put_nowait(
                {"type": "websocket.disconnect", "code": NOT_INITIALISED, "reason": EVICTED}
            )
            self.conn.send_close(NOT_INITIALISED, EVICTED)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        GuardedWebSockets.unauthenticated.pop(self, None)
        # uvicorn removes it from the count here; an evicted one has left already.
        self.connections.add(self)
        super().connection_lost(exc)


def configure(settings: Settings) -> int:
    """Set this process's limits from ``settings`` (raising the fd limit first); returns the
    connection cap."""
    cap = connection_cap(raise_fd_limit(), settings.max_connections)
    GuardedHttpTools.header_timeout_s = settings.header_timeout_s
    GuardedHttpTools.max_header_bytes = settings.max_header_bytes
    GuardedHttpTools.max_connections = cap
    GuardedHttpTools.min_body_rate = settings.min_body_rate
    return cap


__all__ = [
    "PROTOCOL",
    "WS_GUARD",
    "WS_PROTOCOL",
    "GuardedHttpTools",
    "GuardedWebSockets",
    "configure",
    "connection_cap",
    "raise_fd_limit",
]
