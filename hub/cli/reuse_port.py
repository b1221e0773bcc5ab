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
from typing import Any

__all__ = ["ReusePortSocket", "listener", "supported"]


def supported() -> bool:
    """Whether this platform balances connections over ``SO_REUSEPORT`` sockets (Linux)."""
    return hasattr(socket, "SO_REUSEPORT") and socket.SO_REUSEPORT is not None


def _bound(family: int, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ReusePortSocket(socket.socket):
    """A bound ``SO_REUSEPORT`` socket that unpickles as a new one bound to the same address
    (multiprocessing's reducer for sockets is for exactly ``socket.socket``; a subclass goes by
    ``__reduce__``)."""

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        return _bound, (int(self.family), self.getsockname())


def listener(host: str, port: int) -> ReusePortSocket:
    """The supervisor's socket on ``host``:``port`` (IPv6 when the host has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = ReusePortSocket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
