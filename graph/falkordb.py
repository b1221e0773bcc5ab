"""GraphStore backend on FalkorDB (embedded by default, or a server at redis:// / falkor://)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, LiteralString

import hiredis
import redis
import redis.exceptions as redis_errors
from falkordb import FalkorDB as SyncFalkorDB
from falkordb.asyncio import FalkorDB
from falkordb.edge import Edge
from falkordb.node import Node
from falkordb.path import Path as FalkorPath
from falkordb.query_result import QueryResult
from redis._parsers.base import BaseParser
from redis._parsers.encoders import Encoder
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.connection import PythonRespSerializer

from graph.compact_rows import NeedsSchema, plain_rows, reply_error
from graph.cypher_params import params_header
from graph.embedded import EmbeddedFalkorDB
from graph.errors import (
    GraphError,
    GraphLoading,
    GraphQueryError,
    GraphTimeout,
    GraphUnavailable,
    NotUtf8Reply,
)
from graph.falkordb_loop import LoopReads, ServerAddress
from graph.labels import label_size
from graph.property_keys import DECLARE_KEYS, literal_property_names
from graph.read_limit import limit_s
from graph.store import (
    LOOKUP_INDEXES,
    NATURAL_KEYS,
    RELATIONSHIP_TYPES,
    Params,
    Row,
    StoreStats,
)


def _new_client_name() -> str:
    # A pid alone is not enough: every container's c360 may be pid 1.
    return f"c360:{os.getpid()}:{secrets.token_hex(6)}"


_CLIENT_NAME = [_new_client_name()]
os.register_at_fork(after_in_child=lambda: _CLIENT_NAME.__setitem__(0, _new_client_name()))


def _client_name() -> str:
    """What this process's connections call themselves on the server (drop_graph() finds
    other processes by it); a forked process names its own."""
    return _CLIENT_NAME[0]


# Replies that say the server cannot take or persist writes now (disk full, I/O error,
# read-only replica, out of memory, loading): the graph is unavailable, the query is fine.
_UNAVAILABLE_PREFIXES = (
    "MISCONF",
    "READONLY",
    "OOM",
    "LOADING",
    "MASTERDOWN",
    "NOREPLICAS",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "BUSY",
)
_UNAVAILABLE_TEXT = ("no space left", "input/output error", "read-only file system", "disk quota")
RETRY_WAIT_S = 2.0  # how long a request waits for a restarting embedded server
COMPACT_ON_CLOSE_BYTES = 1 << 20
# How long a write-log rewrite (compaction, the fold after a bulk load) may take before it is
# reported as stuck (the fold after a 100 000-customer seed took 9.5-23 s here, README).
REWRITE_TIMEOUT_S = 600.0
# No read/write deadline on a round trip: redis-py's default (5 s since redis-py 6) fails a big
# UNWIND batch, or a read queued behind one, whenever the server answers late under load, and
# the server goes on running it. A dead server is seen without a deadline (its socket closes);
# callers bound a request's time themselves (the hub's request timeout).
SOCKET_TIMEOUT_S: float | None = None
# Connections for pings and log compaction; queries have their own pool (QueryThreads).
ADMIN_CONNECTIONS = 4


def unavailable_reply(message: str) -> bool:
    """Whether a redis error reply is about the server's state rather than the query."""
    lowered = message.lower()
    return message.startswith(_UNAVAILABLE_PREFIXES) or any(t in lowered for t in _UNAVAILABLE_TEXT)


# Bytes of the server's log read for the reason a write-log rewrite failed.
LOG_TAIL_BYTES = 16_384


def log_tail(log_path: Path) -> str | None:
    """The last LOG_TAIL_BYTES of the server's log, or None when it cannot be read."""
    try:
        with log_path.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - LOG_TAIL_BYTES))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def rewrite_failure(log_path: Path) -> str | None:
    """The server's last line about a failed log rewrite (``Background AOF rewrite terminated
    by signal 9``, ``... No space left on device``), or None."""
    tail = log_tail(log_path)
    if tail is None:
        return None
    failed = ("terminated", "error", "failed", "no space", "can't", "unable")
    for line in reversed(tail.splitlines()):
        if ("AOF" in line or "rewrite" in line) and any(w in line.lower() for w in failed):
            return line.split(" # ", 1)[-1].split(" * ", 1)[-1].strip()
    return None


@contextlib.contextmanager
def map_falkordb_errors() -> Iterator[None]:
    """Turn redis/FalkorDB exceptions into graph.errors ones (around sync or async calls)."""
    try:
        yield
    except redis_errors.BusyLoadingError as exc:
        raise GraphLoading(f"FalkorDB is loading its data: {exc}") from exc
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise GraphUnavailable(f"FalkorDB unreachable: {exc}") from exc
    except (redis_errors.ReadOnlyError, redis_errors.OutOfMemoryError) as exc:
        # redis-py's parser strips these replies' READONLY / OOM prefix: known by class.
        raise GraphUnavailable(f"FalkorDB cannot serve writes: {exc}") from exc
    except redis_errors.ResponseError as exc:
        message = str(exc)
        if message == "Query timed out":  # a read past its TIMEOUT (read_timeout_s)
            raise GraphTimeout() from exc
        if unavailable_reply(message):
            raise GraphUnavailable(f"FalkorDB cannot serve writes: {message}") from exc
        raise GraphQueryError(message.split(" errCtx:")[0].removeprefix("errMsg: ")) from exc
    except redis_errors.RedisError as exc:
        if unavailable_reply(str(exc)):
            raise GraphUnavailable(f"FalkorDB cannot serve writes: {exc}") from exc
        raise GraphError(str(exc)) from exc
    except UnicodeDecodeError as exc:  # redis-py decodes replies (decode_responses)
        raise NotUtf8Reply() from exc


def _named_error(error: redis_errors.ResponseError) -> redis_errors.RedisError:
    """An error reply as redis-py's parser would raise it: hiredis gives every one as a
    ResponseError, while redis-py makes those about the connection (LOADING, NOAUTH, WRONGPASS,
    max number of clients) connection errors, which :func:`map_falkordb_errors` reports as
    the graph being unavailable (and the store retries)."""
    named = BaseParser.parse_error(str(error))  # type: ignore[no-untyped-call]
    return named if isinstance(named, redis_errors.ConnectionError) else error


def _plain(value: Any) -> Any:
    if isinstance(value, Node | Edge):
        return {k: _plain(v) for k, v in value.properties.items()}
    if isinstance(value, FalkorPath):
        return [_plain(n) for n in value.nodes()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _plain_rows(result: QueryResult) -> list[Row]:
    columns = [name for _, name in result.header]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in result.result_set]


def _rows(graph: Any, text: str, read_only: bool, timeout_ms: int | None) -> list[Row]:
    """One round trip and its reply as plain rows; runs in a query thread."""
    with map_falkordb_errors():
        if read_only:
            return _plain_rows(graph.ro_query(text, timeout=timeout_ms))
        return _plain_rows(graph.query(text))


def _query_command(
    graph_name: str, query: str, params: Params | None, read_only: bool, timeout_ms: int | None
) -> tuple[str, ...]:
    """One query as a GRAPH.QUERY command with a compact reply (graph/compact_rows.py). The
    parameter header is built here, ~2x faster than the client does. A read with
    ``timeout_ms`` is stopped by the server after that long (FalkorDB times out reads only:
    a write runs to its end, as the log must have it)."""
    if not read_only:
        return ("GRAPH.QUERY", graph_name, params_header(params) + query, "--compact")
    command = ("GRAPH.RO_QUERY", graph_name, params_header(params) + query, "--compact")
    return command if timeout_ms is None else (*command, "timeout", str(timeout_ms))


def _pipelined(graph: Any, group: list[_Job]) -> list[Any]:
    """A group's round trips written in one send on the thread's own connection, then their
    replies read in order (an error reply in its place): one system call and one wait for the
    GIL per group instead of per round trip. A connection that fails half-way is dropped (the
    next round trip connects again), as redis-py does."""
    # The query thread's own connection (its redis client is a single_connection_client).
    conn = graph.client.connection.connection
    commands = [_query_command(graph.name, *job[1:]) for job in group]
    replies: list[Any] = []
    with map_falkordb_errors():
        try:
            conn.send_packed_command(conn.pack_commands(commands))
            for _ in commands:
                try:
                    # Not cut on a reply that is not UTF-8: redis-py's hiredis parser has read
                    # it whole, so the stream is in step and only its caller fails.
                    replies.append(conn.read_response(disconnect_on_error=False))
                except (redis_errors.ResponseError, UnicodeDecodeError) as exc:
                    replies.append(exc)
        except BaseException:
            conn.disconnect()
            raise
    return replies


def _rows_of(graph: Any, reply: Any) -> list[Row]:
    """One pipelined reply as plain rows, or its error as graph.errors'."""
    with map_falkordb_errors():
        if isinstance(reply, BaseException):
            raise reply
        try:
            return plain_rows(reply)
        except NeedsSchema:  # nodes, edges or paths: the client's schema cache names them
            return _plain_rows(QueryResult(graph, reply))


# (the caller's future, rows or None, the error or None)
_Answer = tuple["asyncio.Future[list[Row]]", list[Row] | None, BaseException | None]
# (the caller's future, query, parameters, read only)
# A round trip asked for: its caller's future, query, parameters, read-only or not, and the
# read's limit in ms (taken where it was asked for: a job's may differ, graph/read_limit.py).
_Job = tuple["asyncio.Future[list[Row]]", str, Params | None, bool, int | None]
# Rows up to which a read's reply becomes rows on the event loop (graph/falkordb_loop.py);
# a larger one is turned into rows in a query thread, where the loop is not held for it.
LOOP_ROWS = 500
# Round trips one hand-off to a query thread carries at most (they run one after another
# there, so a larger group would add its members' server time to each one's wait).
GROUP_SIZE = 4


# Large arguments (GRAPH.BULK payloads) stay chunks of their own: hiredis's packer copies every
# argument into one buffer (2.8 s of a 100 000-customer seed's ~1.5 GB of bulk payload).
_ENCODER = Encoder("utf-8", "strict", False)  # type: ignore[no-untyped-call]
_UNPACKED = PythonRespSerializer(6000, _ENCODER.encode)


def send_unpacked(graph: Any, args: tuple[Any, ...]) -> Any:
    """One raw command on ``graph``'s kept connection, its large arguments not copied. No
    retry: a bulk load half sent must not be sent twice."""
    conn = graph.client.connection.connection
    try:
        chunks = _UNPACKED.pack(*args)  # type: ignore[no-untyped-call]
        conn.send_packed_command(chunks, check_health=False)
        return conn.read_response()
    except BaseException:
        conn.disconnect()  # the stream may hold half a command or an unread reply
        raise


class QueryThreads:
    """Graph round trips off the event loop: sending, waiting, parsing the reply and turning it
    into plain rows (what held the loop for hundreds of ms on a large page) run in a bounded
    set of threads, each with its own connection from a thread-safe pool. A cancelled caller
    stops waiting at once; its thread finishes the round trip and returns the connection in
    a known state (cancelling inside redis-py's reader would cut the connection instead).

    Reads are the exception (``loop_reads``, unless the server is reached over TLS): they are
    sent and answered on the event loop (graph/falkordb_loop.py), and only a reply of more than
    :data:`LOOP_ROWS` rows, or one holding nodes, edges or paths, goes to a thread to become
    rows. Writes and bulk loads stay in the threads."""

    def __init__(
        self,
        pool: redis.BlockingConnectionPool,
        graph_name: str,
        threads: int,
        *,
        loop_reads: bool = True,
    ) -> None:
        self.pool = pool
        self._graph_name = graph_name
        # Set by the store (FalkorDBStore.read_timeout_s): the server stops a read after it.
        self.read_timeout_s: float | None = None
        address = ServerAddress.of_pool(pool.connection_class, pool.connection_kwargs)
        self.loop_reads = LoopReads(address, threads) if loop_reads and address else None
        with map_falkordb_errors():  # the client asks INFO (cluster or not) when built
            self._graph = SyncFalkorDB(connection_pool=pool).select_graph(graph_name)
        # Each query thread keeps one connection of the pool (as many as threads) instead of
        # taking one per round trip: the pool's check that a taken connection holds no stale
        # data (a peek with its timeout set and reset, three system calls) was ~4 % of the
        # hub's samples under 16 concurrent 360s. A failed round trip still drops the
        # connection (redis-py disconnects on error) and the retry connects again.
        self._local = threading.local()
        self._schema_epoch = 0  # see forget_schema
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="c360-graph")
        # Answers waiting to be handed to their loop, and the loops already woken for them.
        self._answers: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
        self._woken: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()
        # Round trips asked for in this turn of each loop, not handed to a thread yet.
        self._gathering: dict[asyncio.AbstractEventLoop, list[_Job]] = {}

    def _timeout_ms(self) -> int | None:
        """The limit of a read asked for now: the running job's, else the store's."""
        seconds = limit_s(self.read_timeout_s)
        # The server counts whole milliseconds; 0 would mean no limit.
        return None if seconds is None else max(1, round(seconds * 1000))

    async def run(self, query: str, params: Params | None, read_only: bool) -> list[Row]:
        if read_only and self.loop_reads is not None:
            return await self._read_on_loop(self.loop_reads, query, params)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Row]] = loop.create_future()
        jobs = self._gathering.get(loop)
        if jobs is None:
            jobs = self._gathering[loop] = []
            loop.call_soon(self._submit_gathered, loop)
        jobs.append((future, query, params, read_only, self._timeout_ms() if read_only else None))
        try:
            return await future
        except GraphTimeout as exc:  # made in a thread: named here, where the limit is known
            raise GraphTimeout(exc.detail) from exc

    async def _read_on_loop(self, reads: LoopReads, query: str, params: Params | None) -> list[Row]:
        command = _query_command(self._graph_name, query, params, True, self._timeout_ms())
        reply = await reads.send(hiredis.pack_command(command))  # type: ignore[arg-type]
        error = reply_error(reply)
        if error is not None:
            with map_falkordb_errors():
                raise _named_error(error) from None
        make = self._rows_of_reply
        if len(reply) < 2 or len(reply[1]) <= LOOP_ROWS:
            try:
                return plain_rows(reply)
            except NeedsSchema:  # not tried again in the thread
                make = self._rows_by_schema
        # Large, or naming labels and properties by id: rows made in a thread.
        return await asyncio.wrap_future(self._executor.submit(make, reply))

    def _rows_of_reply(self, reply: Any) -> list[Row]:
        return _rows_of(self._thread_graph(), reply)

    def _rows_by_schema(self, reply: Any) -> list[Row]:
        with map_falkordb_errors():
            return _plain_rows(QueryResult(self._thread_graph(), reply))

    def _submit_gathered(self, loop: asyncio.AbstractEventLoop) -> None:
        """The round trips asked for in one turn of the loop go to the threads in groups of
        up to :data:`GROUP_SIZE`, one hand-off each: a hand-off (the executor's queue, a
        thread woken) cost more of the loop's time than the round trip's own Python, and a
        360 view asks for four at once (resolvers/prefetch360.py)."""
        jobs = self._gathering.pop(loop, [])
        for start in range(0, len(jobs), GROUP_SIZE):
            group = jobs[start : start + GROUP_SIZE]
            work = self._executor.submit(self._run_group, loop, group)
            work.add_done_callback(partial(self._dropped, loop, group))

    def _dropped(
        self, loop: asyncio.AbstractEventLoop, group: list[_Job], work: Future[None]
    ) -> None:
        """A group cancelled unrun (close() drops what is queued): its callers must not wait."""
        if work.cancelled():
            closed = GraphUnavailable("the graph store was closed before the query ran")
            self._answer(loop, [(future, None, closed) for future, *_ in group])

    def _run_group(self, loop: asyncio.AbstractEventLoop, group: list[_Job]) -> None:
        answers: list[_Answer] = []
        if len(group) > 1:
            try:
                graph = self._thread_graph()
                replies = _pipelined(graph, group)
            except BaseException as exc:  # the connection failed: every caller hears it
                self._answer(loop, [(future, None, exc) for future, *_ in group])
                return
            for (future, *_), reply in zip(group, replies, strict=True):
                try:
                    answers.append((future, _rows_of(graph, reply), None))
                except BaseException as exc:
                    answers.append((future, None, exc))
            self._answer(loop, answers)
            return
        for future, query, params, read_only, timeout_ms in group:
            try:
                # The parameter header is built here, ~2x faster than the client does.
                rows = _rows(
                    self._thread_graph(), params_header(params) + query, read_only, timeout_ms
                )
            except BaseException as exc:  # handed to the caller, like run_in_executor did
                answers.append((future, None, exc))
            else:
                answers.append((future, rows, None))
        self._answer(loop, answers)

    async def command(self, *args: Any) -> Any:
        """One raw command (``GRAPH.BULK``) from a query thread on that thread's connection:
        the threads keep every connection of the pool, so none is left to take."""
        return await asyncio.wrap_future(self._executor.submit(self._command, args))

    def _command(self, args: tuple[Any, ...]) -> Any:
        with map_falkordb_errors():
            return send_unpacked(self._thread_graph(), args)

    def _thread_graph(self) -> Any:
        graph = getattr(self._local, "graph", None)
        if graph is None:
            with map_falkordb_errors():
                client = SyncFalkorDB(connection_pool=self.pool, single_connection_client=True)
                graph = self._local.graph = client.select_graph(self._graph_name)
            self._local.schema_epoch = self._schema_epoch
        elif self._local.schema_epoch != self._schema_epoch:
            graph.schema.clear()  # names looked up again as the next reply needs them
            self._local.schema_epoch = self._schema_epoch
        return graph

    def forget_schema(self) -> None:
        """The graph key was dropped: a new graph numbers its labels, relationship types and
        property keys afresh, so each thread's cache of the old numbers (which names a node's
        properties in a reply) is cleared before its next reply is read."""
        self._schema_epoch += 1

    def _answer(self, loop: asyncio.AbstractEventLoop, answers: list[_Answer]) -> None:
        """From a query thread: queue the answers and wake the loop, unless it is already woken
        for earlier answers (replies finishing together cost one wake-up, not one each: the
        wake-ups' self-pipe writes were ~6 % of the hub's samples under 16 concurrent 360s)."""
        with self._lock:
            self._answers.setdefault(loop, []).extend(answers)
            if loop in self._woken:
                return
            self._woken.add(loop)
        try:
            loop.call_soon_threadsafe(self._deliver, loop)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            with self._lock:
                self._answers.pop(loop, None)
                self._woken.discard(loop)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            answers = self._answers.pop(loop, [])
            self._woken.discard(loop)
        for future, rows, error in answers:
            if future.done():  # its caller was cancelled
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(rows if rows is not None else [])

    def close(self) -> None:
        # Callers have had their answers; a round trip still waiting (its caller cancelled, a
        # hung server) ends when its connection is closed here. The loops' read connections
        # are closed on their loops (from this thread too: LoopReads.close).
        if self.loop_reads is not None:
            self.loop_reads.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.pool.disconnect()


def _missing_indexes(existing: set[tuple[str, str]]) -> dict[str, list[str]]:
    """The properties to index per label (graph.store's tables) that ``existing`` lacks."""
    wanted = [(label, key) for label, keys in NATURAL_KEYS.items() for key in keys]
    missing: dict[str, list[str]] = {}
    for label, prop in [*wanted, *LOOKUP_INDEXES]:
        if (label, prop) not in existing:
            missing.setdefault(label, []).append(prop)
    return missing


class FalkorDBStore:
    """One connection pool per process; each call is one round trip, made in a query thread
    (QueryThreads). Pings and log compaction, small and never queued behind queries, keep an
    asyncio connection of their own."""

    def __init__(
        self,
        pool: BlockingConnectionPool,
        graph_name: str = "c360",
        embedded: EmbeddedFalkorDB | None = None,
        *,
        threads: QueryThreads,
    ) -> None:
        self._pool = pool
        # The client probes the server (INFO, to detect a cluster) while it is constructed.
        with map_falkordb_errors():
            self._db = FalkorDB(connection_pool=pool)
        self._graph = self._db.select_graph(graph_name)
        self._threads = threads
        self._embedded = embedded
        self.stats = StoreStats()
        # Property names this store has declared in the graph's log (see graph.property_keys).
        self._declared: set[str] = set()

    @property
    def read_timeout_s(self) -> float | None:
        return self._threads.read_timeout_s

    @read_timeout_s.setter
    def read_timeout_s(self, seconds: float | None) -> None:
        self._threads.read_timeout_s = seconds

    @classmethod
    def embedded(
        cls, embedded: EmbeddedFalkorDB, graph_name: str = "c360", pool_size: int = 16
    ) -> FalkorDBStore:
        try:
            sock = embedded.ensure()
            pool = BlockingConnectionPool(
                connection_class=UnixDomainSocketConnection,
                path=str(sock),
                max_connections=ADMIN_CONNECTIONS,
                timeout=30,
                socket_timeout=SOCKET_TIMEOUT_S,
                decode_responses=True,
                client_name=_client_name(),
            )
            # redis-py's sync pool has no annotations on __init__.
            query_pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
                connection_class=redis.UnixDomainSocketConnection,
                path=str(sock),
                max_connections=pool_size,
                timeout=30,
                socket_timeout=SOCKET_TIMEOUT_S,
                decode_responses=True,
                client_name=_client_name(),
            )
            threads = QueryThreads(query_pool, graph_name, pool_size)
            return cls(pool, graph_name, embedded, threads=threads)
        except BaseException:
            embedded.stop()  # no server or lock left behind by a failed open
            raise

    @classmethod
    def from_url(cls, url: str, graph_name: str = "c360", pool_size: int = 16) -> FalkorDBStore:
        url = url.replace("falkor://", "redis://", 1).replace("falkors://", "rediss://", 1)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=ADMIN_CONNECTIONS,
            timeout=30,
            socket_timeout=SOCKET_TIMEOUT_S,
            decode_responses=True,
            client_name=_client_name(),
        )
        pool.connection_class = pool.connection_class or Connection
        query_pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=30,
            socket_timeout=SOCKET_TIMEOUT_S,
            decode_responses=True,
            client_name=_client_name(),
        )
        return cls(pool, graph_name, threads=QueryThreads(query_pool, graph_name, pool_size))

    async def _run(self, query: str, params: Params | None, read_only: bool) -> list[Row]:
        if not read_only:
            await self._declare_keys(literal_property_names(query))
        for attempt in (1, 2):
            try:
                self.stats.round_trips += 1
                return await self._threads.run(query, params, read_only)
            except GraphQueryError as exc:
                # A graph that was never written to does not exist yet: it reads as empty.
                if read_only and "empty key" in str(exc):
                    return []
                raise
            except GraphUnavailable:
                # The embedded server or its owner may have exited: restart or take it over
                # (one start, whoever asks), wait a little for it, and retry once. Writes
                # are idempotent, so one that was applied but not answered may run again.
                if self._embedded is None or attempt == 2:
                    raise
                self._declared.clear()  # the server may have come back with other files
                await self._await_embedded(RETRY_WAIT_S)
                # Only the idle connections (they may lead to the old server). Connections in
                # use belong to other round trips: closing them failed those too, and their
                # retries closed this one again (a seed lost its graph that way). The query
                # threads' pool is left alone: redis-py checks a connection as it hands it out
                # and reconnects a closed one, while closing "idle" ones from here raced with
                # a thread taking one (hiredis then read a socket set to None: TypeError).
                await self._pool.disconnect(inuse_connections=False)
        raise AssertionError("unreachable")

    async def _declare_keys(self, names: frozenset[str]) -> None:
        """Create the names not yet declared by one logged write before a query that names
        them is compiled: only then does replaying the log give them the same ids."""
        missing = names - self._declared
        if not missing:
            return
        await self._run(DECLARE_KEYS, {"keys": dict.fromkeys(sorted(missing), 0)}, False)
        self._declared |= missing

    async def _await_embedded(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the embedded server, holding a worker thread only for
        each short look (many requests may be waiting at once)."""
        assert self._embedded is not None
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            try:
                await asyncio.to_thread(self._embedded.ensure, 0.0)
                return
            except GraphUnavailable:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
                await asyncio.sleep(0.1)

    async def read(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        return await self._run(query, params, read_only=True)

    async def write(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        return await self._run(query, params, read_only=False)

    async def other_processes(self) -> list[str]:
        """Other c360 processes connected to this graph server, as ``pid N (address)``: our
        pools name their connections ``c360:<pid>:<token>``, one token a process."""
        try:
            with map_falkordb_errors():
                clients = await self._db.connection.client_list()
        except GraphQueryError as exc:  # an ACL user without CLIENT
            raise GraphError(
                f"cannot list the graph server's clients ({exc}): allow this user the CLIENT "
                "LIST command, so a reset can tell whether other c360 processes use the graph"
            ) from exc
        mine = _client_name()
        others = {
            (name.split(":")[1], str(c.get("addr") or "?"))
            for c in clients
            if (name := str(c.get("name") or "")).startswith("c360:") and name != mine
        }
        return [f"pid {pid} ({addr})" for pid, addr in sorted(others)]

    async def drop_graph(self) -> None:
        """Delete the graph key with its data, indexes and relationship types (clear() and
        graph.bulk_insert, before ``GRAPH.BULK ... BEGIN`` creates it anew). DEL rather than
        GRAPH.DELETE: the same for a graph key, and no error when there is no graph yet.
        Refused while another c360 process is connected: it would go on writing with the old
        graph's property numbers, which the new graph's log never declared, and its values
        would come back under other names, or none, after a restart (review, session 17)."""
        others = await self.other_processes()
        if others:
            raise GraphError(
                f"other c360 processes are connected to this graph server: {', '.join(others)}; "
                "stop them (c360 serve, imports) before replacing the graph, and start them after"
            )
        with map_falkordb_errors():
            await self._db.connection.delete(self._graph.name)
        # The new graph numbers property keys afresh: every name is declared again, and the
        # query threads' caches of the old numbers are cleared.
        self._declared.clear()
        self._threads.forget_schema()

    @property
    def embedded_server(self) -> bool:
        """Whether this store runs the data dir's own server (and may set its options)."""
        return self._embedded is not None

    async def pause_log(self, paused: bool, timeout_s: float = REWRITE_TIMEOUT_S) -> None:
        """Stop the embedded server's write log for a bulk load into an empty graph, or start
        it again: a rewrite then folds everything into a fresh base (waited for, like
        compact). Why: GRAPH.BULK is logged verbatim, so a seed wrote its gigabyte twice (log
        and base) with an fsync per command; and an automatic rewrite forked while a bulk
        command held the graph's lock (the command yields to the event loop) left the server
        answering nobody (FalkorDB 4.16 / redis 8.2, at 100 000 customers). While paused,
        writes live in memory only: a crash loses the partial load, which the seed redoes."""
        if self._embedded is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout_s
        with map_falkordb_errors():
            conn = self._db.connection
            if paused:
                await self._log_idle(conn, deadline, "a write-log rewrite")
                await conn.config_set("appendonly", "no")
                return
            await conn.config_set("appendonly", "yes")  # starts the rewrite (or schedules it)
            info = await self._log_idle(conn, deadline, "folding the bulk load into the log")
        self._check_rewrite(info, "the graph's write log could not be rewritten")

    async def _log_idle(self, conn: Any, deadline: float, what: str) -> dict[str, Any]:
        """The server's persistence INFO once no log rewrite runs or waits to run. A rewrite
        that never ends (a disk that stays full makes the server retry it) must not hang a
        seed or an import: past ``deadline`` (loop time) it is an error that says where to
        look."""
        loop = asyncio.get_running_loop()
        while True:
            info: dict[str, Any] = await conn.info("persistence")
            if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
                return info
            if loop.time() > deadline:
                raise GraphUnavailable(
                    f"{what} still running after the deadline; check free disk space and "
                    f"{self._log_path()}, then retry"
                )
            await asyncio.sleep(0.1)

    def _check_rewrite(self, info: dict[str, Any], failure: str) -> None:
        if info.get("aof_last_bgrewrite_status") != "ok":
            # Say what failed, in the server's words (a killed rewrite process, a full disk),
            # rather than guess.
            reason = rewrite_failure(self._embedded.log_path) if self._embedded else None
            said = f": the graph server says {reason!r}" if reason else ""
            raise GraphUnavailable(f"{failure}{said}; see {self._log_path()}")

    def _log_path(self) -> str:
        return str(self._embedded.log_path) if self._embedded else "the graph server's log"

    def bulk_insert_async(self, args: list[bytes | str | int]) -> asyncio.Future[str]:
        """One ``GRAPH.BULK`` command (graph.bulk_insert builds it), sent from a thread so the
        caller builds the next one meanwhile; await the future for the server's reply."""
        self._declared.clear()  # the command names its own properties in the log
        self.stats.round_trips += 1
        return asyncio.ensure_future(self._bulk_insert(args))

    async def _bulk_insert(self, args: list[bytes | str | int]) -> str:
        return str(await self._threads.command("GRAPH.BULK", self._graph.name, *args))

    async def setup_schema(self) -> None:
        if self._embedded is not None:
            # Left by a server that ran with query telemetry on: it holds query parameters.
            with map_falkordb_errors():
                await self._db.connection.delete(f"telemetry{{{self._graph.name}}}")
        types = await self.read("CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t")
        present = {row["t"] for row in types}
        await self._create_relationship_types([t for t in RELATIONSHIP_TYPES if t not in present])
        missing = _missing_indexes(await self._existing_indexes())
        # One command per label (FalkorDB keeps one index per label: one background build of
        # it rather than one per property), smallest label first: the build runs under the
        # graph's write lock, which each later CREATE INDEX waits for (after a 100 000-customer
        # bulk seed the labels queued behind Transaction's 7.5 M nodes took ~5 s to create).
        sizes = {label: await label_size(self, label) for label in missing}
        for label in sorted(missing, key=lambda label: sizes[label]):
            await self._index_label(label, missing[label])

    async def _create_relationship_types(self, types: list[str]) -> None:
        """Create relationship types (see graph.store.RELATIONSHIP_TYPES) by one logged write
        of an edge of each, deleted in the same query."""
        if not types:
            return
        # Types come from the fixed table, never from input.
        edges = ", ".join(f"(a)-[r{i}:{t}]->(b)" for i, t in enumerate(types))
        gone = ", ".join(f"r{i}" for i in range(len(types)))
        query: Any = f"CREATE (a), (b) CREATE {edges} DELETE {gone}, a, b"
        await self.write(query)

    async def _index_label(self, label: str, props: list[str]) -> None:
        if not await self._create_index(label, props) and len(props) > 1:
            # Another process indexed one of them meanwhile: the rest one by one.
            for prop in props:
                await self._create_index(label, [prop])

    async def _create_index(self, label: str, props: list[str]) -> bool:
        """False when (one of) the properties is indexed already."""
        # Labels and properties come from the fixed tables above, never from input.
        fields = ", ".join(f"n.{prop}" for prop in props)
        query: Any = f"CREATE INDEX FOR (n:{label}) ON ({fields})"
        try:
            await self.write(query)
        except GraphQueryError as exc:
            if "already indexed" not in str(exc):
                raise
            return False
        return True

    async def _existing_indexes(self) -> set[tuple[str, str]]:
        try:
            rows = await self.read(
                "CALL db.indexes() YIELD label, properties RETURN label, properties"
            )
        except GraphQueryError:
            return set()
        return {(r["label"], p) for r in rows for p in r["properties"]}

    async def ping(self) -> None:
        with map_falkordb_errors():
            conn = self._db.connection
            await conn.ping()

    async def compact(self, timeout_s: float = REWRITE_TIMEOUT_S) -> None:
        """Fold the embedded server's write log into a fresh snapshot and wait for it, so the
        next start loads a snapshot instead of replaying the log (BGREWRITEAOF). A server we
        do not run keeps its own persistence settings: nothing to do."""
        if self._embedded is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout_s
        with map_falkordb_errors():
            conn = self._db.connection
            info = await conn.info("persistence")
            if not info["aof_rewrite_in_progress"] and info.get("aof_current_size") == info.get(
                "aof_base_size"
            ):
                return  # the log holds nothing beyond its base (e.g. after a bulk load)
            while True:
                try:
                    await conn.execute_command("BGREWRITEAOF")
                    break  # started, or scheduled after a running snapshot
                except redis_errors.ResponseError as exc:
                    # One is running already: it may predate our writes, so wait for it
                    # and ask again.
                    if "already in progress" not in str(exc):
                        raise
                    await self._log_idle(conn, deadline, "log compaction")
            info = await self._log_idle(conn, deadline, "log compaction")
        self._check_rewrite(
            info,
            "log compaction failed (the log is intact, only the next start is slower)",
        )

    async def clear(self) -> None:
        """Drop the graph key and create the schema again (indexes, relationship types).
        Deleting every node instead, as this did, broke FalkorDB 4.16 once the graph had held
        more than 16 384 nodes: nodes MERGEd afterwards read "Attempted to access undefined
        attribute", or the server crashed (tests/graph/test_clear.py)."""
        missing = _missing_indexes(set())
        # The names this store had declared are declared again in the new graph, with the
        # indexed ones, in one write: the writes that follow cost the round trips they did.
        names = frozenset(self._declared).union(*missing.values())
        await self.drop_graph()
        await self._declare_keys(names)
        # The new graph has no type, index or node, so nothing is asked (setup_schema's reads)
        # and the indexes are created at once: sent together, they share the server's fsyncs
        # (the test suite clears the graph before every test).
        await self._create_relationship_types(list(RELATIONSHIP_TYPES))
        await asyncio.gather(*(self._index_label(label, p) for label, p in missing.items()))

    async def close(self) -> None:
        embedded = self._embedded
        if embedded and embedded.owner and embedded.log_bytes() > COMPACT_ON_CLOSE_BYTES:
            # A clean stop leaves a snapshot, so the next start is quick.
            with contextlib.suppress(GraphError):
                await self.compact(timeout_s=60)
        await asyncio.to_thread(self._threads.close)
        await self._pool.aclose()
        if self._embedded is not None:
            await asyncio.to_thread(self._embedded.stop)
