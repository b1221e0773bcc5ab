"""Graph reads sent and answered on the event loop itself: connections that are asyncio
protocols with hiredis's reply parser, no thread in between.

A round trip through a query thread (graph/falkordb.py QueryThreads) cost the hub more than
its own work on a small read: the executor's queue, a thread woken on the other core, the
thread and the loop taking the GIL from each other (a woken thread waits up to the switch
interval, 5 ms, for a busy loop), and the loop woken again for the answer. On the 360 path
that was the largest single cost in the profile. Here a read is one write to a socket the
loop watches anyway; the reply is parsed by hiredis (C) as its bytes arrive, chunk by chunk,
so a large reply does not hold the loop in one piece either. Turning a reply into rows is
left to the caller (graph/falkordb.py keeps large replies for its threads).

Commands on one connection run one after another on the server, so a read goes to the
connection with the fewest waiting (up to ``size`` connections per loop, opened as needed).
A caller that stops waiting leaves its reply to be read and dropped in order: the connection
stays usable. A lost connection fails its waiting reads (GraphUnavailable) and is replaced
by the next read. A loop's connections are closed when it ends (asyncio.run, or close()).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import weakref
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import hiredis
from redis.exceptions import ResponseError

from graph.errors import GraphUnavailable, NotUtf8Reply

__all__ = ["LoopReads", "ServerAddress"]

_NOT_UTF8 = object()  # in place of a reply hiredis could not decode


@dataclass(frozen=True)
class ServerAddress:
    """Where the graph server listens and how to log in: a unix socket ``path``, or ``host``
    and ``port`` (plain TCP; TLS connections stay with the query threads)."""

    path: str | None = None
    host: str | None = None
    port: int = 6379
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def of_pool(cls, connection_class: type, kwargs: dict[str, Any]) -> ServerAddress | None:
        """The address a redis-py pool connects to; None when this module cannot (TLS)."""
        if "ssl" in connection_class.__name__.lower() or kwargs.get("ssl"):
            return None
        username, password = kwargs.get("username"), kwargs.get("password")
        db = int(kwargs.get("db") or 0)
        if kwargs.get("path"):
            return cls(path=str(kwargs["path"]), username=username, password=password, db=db)
        host, port = str(kwargs.get("host") or "localhost"), int(kwargs.get("port") or 6379)
        return cls(host=host, port=port, username=username, password=password, db=db)


class _Connection(asyncio.Protocol):
    """One connection: packed commands out, replies matched to their futures in order."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader(encoding="utf-8", replyError=ResponseError)
        self._waiting: deque[asyncio.Future[Any]] = deque()
        # uvloop's transports are not asyncio.Transport subclasses: the methods are the same.
        self._transport: Any = None
        self.lost = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def send(self, packed: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
        """Write one command; the future gets its reply (an error reply as an exception
        instance in its place, or inside it)."""
        if self.lost or self._transport is None:
            raise GraphUnavailable("FalkorDB unreachable: the connection was lost")
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(future)
        self._transport.write(packed)
        return future

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError as exc:  # the stream cannot be trusted any more
                self._fail(GraphUnavailable(f"FalkorDB sent an unreadable reply: {exc}"))
                if self._transport is not None:
                    self._transport.abort()
                return
            except UnicodeDecodeError:
                # hiredis has read the whole reply (the stream is in step): only its caller fails.
                reply = _NOT_UTF8
            if reply is False:
                return
            if not self._waiting:  # a reply nobody asked for: the stream is out of step
                self._fail(GraphUnavailable("FalkorDB sent a reply nobody asked for"))
                if self._transport is not None:
                    self._transport.abort()
                return
            future = self._waiting.popleft()
            if future.done():  # its caller stopped waiting
                continue
            if reply is _NOT_UTF8:
                future.set_exception(NotUtf8Reply())
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        why = f": {exc}" if exc else ""
        self._fail(GraphUnavailable(f"FalkorDB unreachable: the connection was lost{why}"))

    def _fail(self, error: Exception) -> None:
        self.lost = True
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        self.lost = True
        if self._transport is not None:
            self._transport.close()

    def hang_up(self) -> None:
        """End the connection of a loop that has closed (its transport's methods need the
        loop): the server is told on a duplicate of the socket, and the socket itself is
        closed when the transport is collected."""
        self.lost = True
        sock = self._transport.get_extra_info("socket") if self._transport else None
        if sock is not None:
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(sock.fileno())) as dup:
                dup.shutdown(socket.SHUT_RDWR)


class _LoopPool:
    """The connections of one event loop."""

    def __init__(self) -> None:
        self.connections: list[_Connection] = []
        self.opening = 0
        # Set (and replaced) each time an open finishes: callers that found no usable
        # connection and no room wait on it instead of opening more than ``size``.
        self.opened = asyncio.Event()
        self.ender: AsyncGenerator[None, None] | None = None


class LoopReads:
    """Up to ``size`` connections per event loop to the server at ``address``."""

    def __init__(self, address: ServerAddress, size: int) -> None:
        self.address = address
        self.size = max(1, size)
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
            weakref.WeakKeyDictionary()
        )
        self._closed = False

    async def send(self, packed: bytes) -> Any:
        """One command's reply (hiredis's objects; error replies as ResponseError values)."""
        if self._closed:
            raise GraphUnavailable("the graph store was closed before the query ran")
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:  # a new loop (the connections of those closed go)
            self._drop_closed_loops()
            pool = self._pools[loop] = _LoopPool()
            pool.ender = self._ends_with_loop(loop, pool)
            await anext(pool.ender)
        # Most reads find an idle connection at once: taken without a coroutine or a scan of
        # every connection (that scan was ~2 % of the loop's CPU on the 360 path).
        connection = _idle(pool) or await self._connection(pool)
        return await connection.send(packed, loop)

    async def _connection(self, pool: _LoopPool) -> _Connection:
        """An idle connection, else a new one while there is room, else the least busy; with
        none usable and no room (all of it being opened), the next one opened."""
        while True:
            best: _Connection | None = None
            for connection in list(pool.connections):
                if connection.lost:
                    pool.connections.remove(connection)
                elif best is None or connection.waiting < best.waiting:
                    best = connection
            full = len(pool.connections) + pool.opening >= self.size
            if best is not None and (best.waiting == 0 or full):
                return best
            if not full:
                break
            await pool.opened.wait()  # then look again: it may have failed or be lost
            if self._closed:
                raise GraphUnavailable("the graph store was closed before the query ran")
        pool.opening += 1
        try:
            connection = await self._open()
        finally:
            pool.opening -= 1
            pool.opened.set()
            pool.opened = asyncio.Event()
        if self._closed:
            connection.close()
            raise GraphUnavailable("the graph store was closed before the query ran")
        pool.connections.append(connection)
        return connection

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        address = self.address
        try:
            if address.path is not None:
                _, connection = await loop.create_unix_connection(_Connection, address.path)
            else:
                _, connection = await loop.create_connection(
                    _Connection, address.host or "localhost", address.port
                )
        except OSError as exc:
            raise GraphUnavailable(f"FalkorDB unreachable: {exc}") from exc
        try:
            if address.password is not None:
                login = ("AUTH", address.username, address.password) if address.username else (
                    "AUTH", address.password)  # fmt: skip
                await _checked(connection, login, loop)
            if address.db:
                await _checked(connection, ("SELECT", address.db), loop)
        except BaseException:
            connection.close()
            raise
        return connection

    async def _ends_with_loop(
        self, loop: asyncio.AbstractEventLoop, pool: _LoopPool
    ) -> AsyncGenerator[None, None]:
        # A pool's connections hold their transports, which hold the loop: the pool of a loop
        # that ends without close() would never leave the weak dictionary, nor its connections
        # close. asyncio.run (and uvloop's Runner) close a loop's async generators before the
        # loop itself: this one closes the pool's connections then.
        try:
            yield
        finally:
            self._pools.pop(loop, None)
            for connection in pool.connections:
                if loop.is_closed():
                    connection.hang_up()
                else:
                    connection.close()
            pool.connections.clear()

    def _drop_closed_loops(self) -> None:
        """The pools of loops closed without closing their async generators (a bare close())."""
        for loop, pool in list(self._pools.items()):
            if loop.is_closed():
                _end(pool)

    def close(self) -> None:
        """Close the connections of every loop: this one's and closed ones' here, others' on
        their loops (the store closes its threads from a thread)."""
        self._closed = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, pool in list(self._pools.items()):
            if loop is running or loop.is_closed():
                _end(pool)
                continue
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(_end, pool)


def _idle(pool: _LoopPool) -> _Connection | None:
    """The first usable connection with no read waiting, as ``LoopReads._connection``'s scan
    would pick it (lost ones before it are left for that scan to drop)."""
    for connection in pool.connections:
        if not connection._waiting and not connection.lost:
            return connection
    return None


def _end(pool: _LoopPool) -> None:
    """Run the pool's ender to its end here (it has no await): not later by its loop's
    finalizer hook, which fails once the loop is closed."""
    if pool.ender is not None:
        with contextlib.suppress(StopIteration):
            pool.ender.aclose().send(None)


async def _checked(
    connection: _Connection, args: tuple[Any, ...], loop: asyncio.AbstractEventLoop
) -> None:
    reply = await connection.send(hiredis.pack_command(args), loop)
    if isinstance(reply, ResponseError):
        raise GraphUnavailable(f"FalkorDB refused the connection: {reply}")
