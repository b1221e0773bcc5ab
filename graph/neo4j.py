"""GraphStore backend on Neo4j 5 through the official async driver (bolt:// or neo4j://).

Reads and writes run in managed transactions (``execute_read`` / ``execute_write``), so the
driver retries transient failures and routes reads to replicas in a cluster; every query handed
to ``write`` must therefore be idempotent (the repositories' UNWIND ... MERGE batches are).
Results come back as the same plain dicts the FalkorDB backend returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any, LiteralString

import neo4j.exceptions as neo4j_errors
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, unit_of_work
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point
from neo4j.time import Date, DateTime, Duration, Time

from graph.errors import GraphError, GraphQueryError, GraphTimeout, GraphUnavailable
from graph.read_limit import limit_s
from graph.store import LOOKUP_INDEXES, NATURAL_KEYS, Params, Row, StoreStats

# The driver also logs each connection failure; without a handler Python prints those to
# stderr next to the one sentence our mapped error already gives.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

# Bounded so that a missing server is a quick, clear error rather than a minute of retries.
CONNECTION_TIMEOUT_S = 5.0
MAX_RETRY_TIME_S = 15.0
_CLEAR_BATCH: LiteralString = "MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n"


@contextlib.asynccontextmanager
async def map_neo4j_errors(url: str = "Neo4j") -> AsyncIterator[None]:
    """Turn the driver's exceptions into graph.errors ones (callers never see neo4j types)."""
    try:
        try:
            yield
        except neo4j_errors.Neo4jError as exc:
            # A transaction past its timeout (read_timeout_s): a ClientError or, since Neo4j 5,
            # a TransientError by its code; either way the query's, not the server's.
            if "TransactionTimedOut" in (exc.code or ""):
                raise GraphTimeout(_message(exc)) from exc
            raise
    except neo4j_errors.AuthError as exc:
        raise GraphUnavailable(
            f"{url} refused the credentials ({exc.message}); "
            "check C360_GRAPH_USER and C360_GRAPH_PASSWORD"
        ) from exc
    except (
        neo4j_errors.ServiceUnavailable,
        neo4j_errors.SessionExpired,
        neo4j_errors.ConnectionPoolError,
        neo4j_errors.TransientError,
        # The server failed, not the query (disk full, I/O error, out of memory).
        neo4j_errors.DatabaseError,
        OSError,
    ) as exc:
        raise GraphUnavailable(f"{url} is unreachable: {_message(exc)}") from exc
    except neo4j_errors.ClientError as exc:
        raise GraphQueryError(_message(exc)) from exc
    except neo4j_errors.ConfigurationError as exc:
        raise GraphUnavailable(f"{url} cannot be used: {_message(exc)}") from exc
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
        raise GraphError(_message(exc)) from exc


def _message(exc: BaseException) -> str:
    # One line: CLI errors are a single sentence.
    # Server errors carry the server's text in .message; driver errors in str().
    server = exc.message if isinstance(exc, neo4j_errors.Neo4jError) else None
    message = server or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


def iso(value: DateTime | Date | Time | Duration) -> str:
    """A neo4j temporal value as the ISO-8601 text c360 stores (UTC datetimes end in Z)."""
    if isinstance(value, DateTime) and value.tzinfo is not None:
        native = value.to_native().astimezone(dt.UTC)
        text = native.isoformat(timespec="microseconds" if native.microsecond else "seconds")
        return text.removesuffix("+00:00") + "Z"
    return value.iso_format()


def plain(value: Any) -> Any:
    """A driver value as plain Python: nodes/relationships -> property dicts, paths -> node
    lists, temporal values -> ISO strings. The same shapes the FalkorDB backend returns."""
    if isinstance(value, Node | Relationship):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return [plain(n) for n in value.nodes]
    if isinstance(value, DateTime | Date | Time | Duration):
        return iso(value)
    if isinstance(value, Point):
        return list(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


async def _collect(tx: AsyncManagedTransaction, query: LiteralString, params: Params) -> list[Row]:
    # Pure function of its arguments: the driver may call it again after a transient failure.
    result = await tx.run(query, dict(params))
    return [
        {k: plain(v) for k, v in zip(record.keys(), record.values(), strict=True)}
        async for record in result
    ]


def schema_statements() -> list[LiteralString]:
    """Uniqueness constraints on every natural key and lookup indexes, Community-edition
    syntax (NODE KEY needs Enterprise; a composite IS UNIQUE does not)."""
    out: list[Any] = []
    for label, keys in NATURAL_KEYS.items():
        name = f"c360_{label}_{'_'.join(keys)}_unique"
        props = ", ".join(f"n.{k}" for k in keys)
        target = props if len(keys) == 1 else f"({props})"
        # Labels and keys come from the fixed tables in graph.store, never from input.
        out.append(
            f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE {target} IS UNIQUE"
        )
    for label, prop in LOOKUP_INDEXES:
        out.append(f"CREATE INDEX c360_{label}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
    return out


class Neo4jStore:
    """One driver (its own connection pool) per process; sessions are per call and short."""

    def __init__(
        self,
        url: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        pool_size: int = 16,
    ) -> None:
        self.url = url
        self.database = database or None
        self.stats = StoreStats()
        self.read_timeout_s: float | None = None
        auth = (user, password) if password else None
        try:
            self._driver: AsyncDriver = AsyncGraphDatabase.driver(
                url,
                auth=auth,
                max_connection_pool_size=pool_size,
                connection_timeout=CONNECTION_TIMEOUT_S,
                connection_acquisition_timeout=CONNECTION_TIMEOUT_S * 2,
                max_transaction_retry_time=MAX_RETRY_TIME_S,
            )
        except (neo4j_errors.ConfigurationError, ValueError) as exc:
            raise GraphUnavailable(
                f"C360_GRAPH_URL {url!r} is not a usable Neo4j URL: {_message(exc)}"
            ) from exc

    async def read(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        async with map_neo4j_errors(self.url), self._driver.session(database=self.database) as s:
            self.stats.round_trips += 1
            work = _collect
            timeout_s = limit_s(self.read_timeout_s)  # the running job's, else the store's
            if timeout_s is not None:  # the server ends the transaction after it
                work = unit_of_work(timeout=timeout_s)(_collect)
            return await s.execute_read(work, query, params or {})

    async def write(self, query: LiteralString, params: Params | None = None) -> list[Row]:
        async with map_neo4j_errors(self.url), self._driver.session(database=self.database) as s:
            self.stats.round_trips += 1
            return await s.execute_write(_collect, query, params or {})

    async def setup_schema(self) -> None:
        # Connectivity first: a missing server fails once, not once per retried statement.
        await self.ping()
        for statement in schema_statements():
            await self.write(statement)

    async def ping(self) -> None:
        try:
            async with map_neo4j_errors(self.url):
                await self._driver.verify_connectivity()
        except ValueError as exc:
            # The driver's word for an address it cannot even resolve (bad port, bad host).
            raise GraphUnavailable(f"{self.url} is unreachable: {_message(exc)}") from exc

    async def compact(self) -> None:
        """Neo4j checkpoints its own transaction log."""

    async def clear(self) -> None:
        # Batches keep each transaction's memory bounded on a large graph.
        while (await self.write(_CLEAR_BATCH))[0]["n"]:
            pass

    async def close(self) -> None:
        await self._driver.close()


__all__ = ["Neo4jStore", "iso", "map_neo4j_errors", "plain", "schema_statements"]
