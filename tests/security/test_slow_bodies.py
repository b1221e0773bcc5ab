"""Slow request bodies cannot lock everyone out (QA, session 26, item 4).

A real `c360 serve` with C360_MAX_CONNECTIONS=CAP, and sockets with a valid token that send
their headers and then trickle their body a byte at a time. Before, only a connection still
sending its headers could be evicted at the cap: these held their slots until the request
timeout and /healthz was refused throughout. Now the connection furthest behind
C360_MIN_BODY_RATE makes room: a fresh client gets in, a steady upload goes through, and a
body that falls more than C360_HEADER_TIMEOUT_S behind the rate is answered 408 (not 504
after the whole request timeout).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx

from hub.slowest_first import SLACK, SlowestFirst
from tests.security.conftest import LiveHub
from tests.security.test_slow_clients import _closed_by_server

CAP = 10
HEADER_TIMEOUT_S = 10.0  # also the grace before a body must keep up C360_MIN_BODY_RATE
# Far off: what frees a slot here must be the cap or the body's pace, not the request timeout.
REQUEST_TIMEOUT_S = 120.0
LIVE_HUB_ENV = {
    "C360_GRAPH_URL": "",
    "C360_MAX_CONNECTIONS": str(CAP),
    "C360_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "C360_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
}
QUERY = b'{"query": "{ __typename }"}'


def _port_and_token(hub: LiveHub) -> tuple[int, str]:
    return int(hub.url.rsplit(":", 1)[1]), hub.token(["brand_analyst"], "marketing")


def _head(bearer: str, length: int) -> bytes:
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {bearer}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _trickler(port: int, bearer: str) -> socket.socket:
    """Headers with a valid token, then the first byte of a 200-byte body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(_head(bearer, 200) + b"{")
    return s


def _trickle(sockets: list[socket.socket]) -> None:
    for s in sockets:
        with contextlib.suppress(OSError):  # closed by the hub: evicted
            s.sendall(b" ")


def _healthz(port: int) -> int | None:
    with contextlib.suppress(httpx.HTTPError):
        headers = {"Connection": "close"}  # no idle keep-alive connection left behind
        return httpx.get(f"http://127.0.0.1:{port}/healthz", headers=headers, timeout=3).status_code
    return None


def _answer(s: socket.socket, timeout_s: float) -> bytes:
    """What the hub sends until it closes the connection (or until ``timeout_s``)."""
    s.settimeout(timeout_s)
    got = b""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := s.recv(65_536):
            got += chunk
    return got


def test_trickled_bodies_do_not_lock_out_a_fresh_client(
    live_hub: LiveHub,
) -> None:
    port, bearer = _port_and_token(live_hub)
    sockets = [_trickler(port, bearer) for _ in range(CAP + 5)]
    time.sleep(0.5)  # every head is in: the hub holds bodies only
    try:
        # Every probe gets in while the tricklers keep sending, well within their grace.
        began, statuses = time.monotonic(), []
        for _ in range(4):
            _trickle(sockets)
            statuses.append(_healthz(port))
            time.sleep(0.3)
        assert time.monotonic() - began < HEADER_TIMEOUT_S - 2
        assert statuses == [200] * 4, statuses
        # The room was made by closing tricklers, the oldest first (all are equally behind).
        # (A trickler's own head may also find uvicorn's limit on requests in flight reached,
        # 503, while the request of the one it took the place of is still ending.)
        assert _closed_by_server(sockets[0])
    finally:
        for s in sockets:
            s.close()
    assert "closing the slowest to send its request body" in live_hub.log()


def test_a_steady_upload_goes_through_while_trickled_bodies_fill_the_cap(
    live_hub: LiveHub,
) -> None:
    port, bearer = _port_and_token(live_hub)
    body = QUERY + b" " * 12_000  # JSON allows the padding: sent at 10 KB/s (min: 1 KB/s)
    sockets = [_trickler(port, bearer) for _ in range(CAP - 1)]
    upload = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        upload.sendall(_head(bearer, len(body)))
        for at in range(0, len(body), 1_000):
            upload.sendall(body[at : at + 1_000])
            # Meanwhile new tricklers take the place of the slowest bodies: never the upload.
            sockets.append(_trickler(port, bearer))
            _trickle(sockets)
            time.sleep(0.1)
        head, _, answer = _answer(upload, 30).partition(b"\r\n\r\n")
    finally:
        upload.close()
        for s in sockets:
            s.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(answer) == {"data": {"__typename": "Query"}}


def test_a_body_behind_the_minimum_rate_is_answered_408(
    live_hub: LiveHub,
) -> None:
    port, bearer = _port_and_token(live_hub)
    s = _trickler(port, bearer)
    began = time.monotonic()
    try:
        s.settimeout(0.5)
        answer = b""
        while not answer and time.monotonic() - began < 3 * HEADER_TIMEOUT_S:
            _trickle([s])  # a byte every half second: 2 bytes/s, far under 1 000
            with contextlib.suppress(TimeoutError):
                answer = s.recv(65_536)
        answer += _answer(s, 5)
    finally:
        s.close()
    took = time.monotonic() - began
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), (round(took, 1), answer[:300])
    assert b"connection: close" in head.lower()
    error = json.loads(body)["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "C360_MIN_BODY_RATE" in error["message"]
    # After the grace (and the little the body bought), long before the request timeout.
    assert HEADER_TIMEOUT_S <= took < HEADER_TIMEOUT_S + 5


def test_the_slowest_first_queue_follows_keys_moved_later() -> None:
    queue: SlowestFirst[str] = SlowestFirst()
    queue.set("a", 1.0)
    queue.set("b", 2.0)
    queue.set("c", 3.0)
    assert queue.earliest() == "a"
    queue.set("a", 5.0)  # a steady upload: its body bytes buy it time
    assert queue.earliest() == "b"
    queue.discard("b")
    assert queue.earliest() == "c"
    queue.discard("c")
    queue.discard("a")
    assert queue.earliest() is None and len(queue) == 0
    # Entries of items that left do not pile up (one request after another on a connection).
    for n in range(10 * SLACK):
        queue.set("k", float(n))
        queue.discard("k")
    assert len(queue._heap) <= SLACK + 1
