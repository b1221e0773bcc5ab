"""One listening socket per ``serve --workers`` process, the kernel spreading connections.

uvicorn's workers share the one socket the supervisor binds, and uvloop (libuv) accepts every
connection pending when its loop wakes: a burst of new keep-alive connections (a client's pool
opening, a load balancer reconnecting) went to whichever worker woke first and stayed there. In
the 360 bench, one of two workers served all 16 connections (its loop 2.7-2.8 ms of CPU a
request, the other's 0.01 ms) in runs at 500 and 20 000 customers. With ``SO_REUSEPORT`` each
worker listens on a socket of its own bound to the same address, and the kernel hands each new
connection to one of them by a hash of its addresses.

:func:`listener` binds the supervisor's socket (``SO_REUSEPORT`` set, never listened on, so no
connection waits in it); uvicorn passes it to each worker it starts, or restarts, by pickling,
and :class:`ReusePortSocket` pickles as "a new socket bound to my address": the worker gets its
own, which its server listens on.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, TypeVar

S = TypeVar("S", bound=socket.socket)

__all__ = ["ReusePortSocket", "listener", "supported"]


def supported() -> bool:
    """Whether this platform balances TCP connections over ``SO_REUSEPORT`` sockets: Linux
    does; macOS defines the option but sends every connection to one socket, and FreeBSD
    balances only with ``SO_REUSEPORT_LB``."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bind(sock: S, address: Any) -> S:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _bound(family: int, address: Any) -> socket.socket:
    return _bind(socket.socket(family, socket.SOCK_STREAM), address)


class ReusePortSocket(socket.socket):
    """A bound ``SO_REUSEPORT`` socket that unpickles as a new one bound to the same address
    (multiprocessing's reducer for sockets is for exactly ``socket.socket``; a subclass goes by
    ``__reduce__``)."""

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        return _bound, (int(self.family), self.getsockname())


def _free(family: int, host: str, port: int) -> int:
    """The port, after checking nothing listens on it: ``SO_REUSEPORT`` sockets of the same
    user may all bind one port, so a second hub (or an old one still running) would otherwise
    start beside the first and the kernel would split connections between them. A plain bind
    fails with "address already in use" as uvicorn's own would. Port 0: the one it was given."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return int(probe.getsockname()[1])


def free_port(host: str, port: int) -> int:
    """:func:`_free` for ``host`` (IPv6 when it has a colon); OSError when taken."""
    return _free(_family(host), host, port)


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listener(host: str, port: int) -> ReusePortSocket:
    """The supervisor's socket on ``host``:``port`` (IPv6 when the host has a colon)."""
    port = free_port(host, port)
    return _bind(ReusePortSocket(_family(host), socket.SOCK_STREAM), (host, port))
