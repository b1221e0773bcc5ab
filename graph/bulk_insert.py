"""Bulk loading into an empty FalkorDB graph with ``GRAPH.BULK``, FalkorDB's binary insert
protocol (the one ``falkordb-bulk-loader`` speaks): nodes and edges go in as packed binary
rows, no Cypher is parsed or planned, and no index is kept up to date while they land.

Why not the library: it reads CSV files and encodes them row by row in Python; the seed has
its rows in memory already (and the transactions as numpy columns, encoded here without a
Python loop), so writing CSVs for it to parse again would cost more than the load.

The protocol (FalkorDB ``src/bulk_insert``): ``GRAPH.BULK <graph> [BEGIN] <nodes> <edges>
<node tokens> <edge tokens> <token>...``; a node token is ``label\\0`` + uint32 property count
+ ``name\\0``... + rows of typed values, an edge token ``type\\0`` + the same header + rows
of (uint64 source node id, uint64 destination node id, values). A value is one type byte and
its payload (below); a null value stores nothing, as ``SET n += {x: null}`` does. Node ids are
the graph's internal ids: in a graph created by ``BEGIN`` they are handed out 0, 1, 2... in
the order the nodes arrive, so the loader counts them to link edges (no lookup).

``BEGIN`` only creates a graph that does not exist: :func:`open_loader` deletes the graph key
of a graph that holds no node (its indexes go with it; the caller creates them again after
the load, e.g. ``GraphStore.setup_schema``). A graph with any node gets no loader: callers
fall back to their ordinary writes.

``GRAPH.BULK`` is replicated verbatim, so the embedded server's write log replays it (and
names its properties the same way: the names are in the command).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

import numpy as np
import numpy.typing as npt

from graph.errors import GraphUnavailable
from graph.falkordb import FalkorDBStore
from graph.store import GraphStore

NULL, BOOL, DOUBLE, STRING, LONG, ARRAY = 0, 1, 2, 3, 4, 5
# One command's payload: big enough that the per-command cost vanishes, small enough that the
# server (which holds the graph's write lock while it runs) answers others within a second.
FLUSH_BYTES = 48 << 20

_DOUBLE = struct.Struct("<Bd")
# A type byte and a 64-bit integer: an integer value, or an array's length.
_TYPED_LONG = struct.Struct("<Bq")
_EDGE = struct.Struct("<QQ")


def _string(value: str) -> bytes:
    if "\0" in value:
        raise ValueError("GRAPH.BULK strings cannot hold NUL characters")
    return b"\x03" + value.encode() + b"\x00"


def _array(value: list[Any] | tuple[Any, ...]) -> bytes:
    return _TYPED_LONG.pack(ARRAY, len(value)) + b"".join(map(encode_value, value))


# By exact type (a dict lookup instead of a chain of isinstance: millions of values a seed).
_ENCODE: dict[type, Any] = {
    type(None): lambda _: b"\x00",
    bool: lambda v: b"\x01\x01" if v else b"\x01\x00",
    float: lambda v: _DOUBLE.pack(DOUBLE, v),
    str: _string,
    int: lambda v: _TYPED_LONG.pack(LONG, v),
    list: _array,
    tuple: _array,
}


def encode_value(value: Any) -> bytes:
    """One property value in the bulk format."""
    encode = _ENCODE.get(type(value))
    if encode is None:
        raise TypeError(f"GRAPH.BULK cannot store a {type(value).__name__}")
    return bytes(encode(value))


def encode_row(values: Iterable[Any]) -> bytes:
    return b"".join(map(encode_value, values))


def header(name: str, columns: Sequence[str]) -> bytes:
    """A token's header: its label (or relationship type) and property names."""
    parts = [name.encode(), b"\0", struct.pack("<I", len(columns))]
    parts += [c.encode() + b"\0" for c in columns]
    return b"".join(parts)


def string_column(values: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """A vocabulary of strings as typed bulk values in a padded byte matrix and the mask of
    its real bytes: row ``i`` of ``matrix[mask_row]`` is the encoded ``values[i]``. Lets a
    column of vocabulary indices be encoded for millions of rows at once (see pack_rows)."""
    encoded = [b"\x03" + v.encode() + b"\x00" for v in values]
    width = max(len(e) for e in encoded)
    matrix = np.zeros((len(encoded), width), dtype=np.uint8)
    mask = np.zeros((len(encoded), width), dtype=bool)
    for i, e in enumerate(encoded):
        matrix[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
        mask[i, : len(e)] = True
    return matrix, mask


def fixed_column(
    type_byte: int, payload: npt.NDArray[np.uint8], terminated: bool = False
) -> npt.NDArray[np.uint8]:
    """Rows of a fixed-width payload (``n x w`` bytes) as typed bulk values: the type byte in
    front, and a NUL after it for strings."""
    n = payload.shape[0]
    parts = [np.full((n, 1), type_byte, dtype=np.uint8), payload]
    if terminated:
        parts.append(np.zeros((n, 1), dtype=np.uint8))
    return np.hstack(parts)


def doubles(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    payload = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(-1, 8)
    return fixed_column(DOUBLE, payload)


def numbered(prefix: str, numbers: npt.NDArray[np.int64], digits: int) -> npt.NDArray[np.uint8]:
    """``f"{prefix}{n:0{digits}d}"`` for each number, as typed bulk strings."""
    if len(numbers) and int(numbers.max()) >= 10**digits:
        raise ValueError(f"{prefix} numbers need more than {digits} digits")
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    text = (numbers[:, None] // powers % 10 + ord("0")).astype(np.uint8)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    return fixed_column(STRING, np.hstack([np.tile(head, (len(numbers), 1)), text]), True)


Column = (
    npt.NDArray[np.uint8]
    | tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_], npt.NDArray[np.intp]]
)


def pack_rows(columns: Sequence[Column]) -> bytes:
    """Rows of encoded values, column by column: a fixed matrix (``n x w``, every byte
    used) or a vocabulary ``(matrix, mask, index per row)`` from string_column. One boolean
    gather over the padded row matrix; no Python loop over rows."""
    matrices, masks = [], []
    for column in columns:
        if isinstance(column, tuple):
            matrix, mask, index = column
            matrices.append(matrix[index])
            masks.append(mask[index])
        else:
            matrices.append(column)
            masks.append(np.ones(column.shape, dtype=bool))
    return np.hstack(matrices)[np.hstack(masks)].tobytes()


def edge_pairs(src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64]) -> bytes:
    """Property-less edges: (source, destination) internal ids, 16 bytes each."""
    return np.column_stack([src, dst]).astype("<u8").tobytes()


def edge_row(src: int, dst: int, values: Iterable[Any] = ()) -> bytes:
    return _EDGE.pack(src, dst) + encode_row(values)


@dataclass
class _Token:
    name: str
    columns: tuple[str, ...]
    parts: list[bytes] = field(default_factory=list)
    count: int = 0


class BulkLoader:
    """Collects node and edge rows, numbers the nodes, and sends them as GRAPH.BULK commands
    (one in flight while the next is built: the server works while Python encodes)."""

    def __init__(self, store: FalkorDBStore, flush_bytes: int = FLUSH_BYTES) -> None:
        self._store = store
        self._flush_bytes = flush_bytes
        self._begun = False
        self.next_id = 0  # the internal id the next node gets
        self._nodes: list[_Token] = []
        self._edges: dict[tuple[str, tuple[str, ...]], _Token] = {}
        self._pending_nodes = 0
        self._pending_edges = 0
        self._size = 0
        self._in_flight: Any = None

    def add_nodes(self, label: str, columns: Sequence[str], body: bytes, count: int) -> int:
        """``count`` encoded node rows; returns the internal id of the first (the others
        follow in order). Edges may name them once this returns."""
        # Ids follow the order nodes arrive in: a label seen again after another starts a
        # token of its own rather than joining its earlier one.
        if not self._nodes or (self._nodes[-1].name, self._nodes[-1].columns) != (
            label,
            tuple(columns),
        ):
            self._nodes.append(_Token(label, tuple(columns)))
        token = self._nodes[-1]
        token.parts.append(body)
        token.count += count
        first = self.next_id
        self.next_id += count
        self._pending_nodes += count
        self._size += len(body)
        return first

    def add_node_rows(
        self, label: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        body, count = [], 0
        for row in rows:
            body.append(encode_row(row))
            count += 1
        return self.add_nodes(label, columns, b"".join(body), count)

    def add_edges(self, rel_type: str, columns: Sequence[str], body: bytes, count: int) -> None:
        key = (rel_type, tuple(columns))
        token = self._edges.setdefault(key, _Token(rel_type, tuple(columns)))
        token.parts.append(body)
        token.count += count
        self._pending_edges += count
        self._size += len(body)

    def add_edge_rows(
        self,
        rel_type: str,
        rows: Iterable[tuple[int, int, Sequence[Any]]],
        columns: Sequence[str] = (),
    ) -> None:
        """Edges (source id, destination id, property values), encoded one by one."""
        body = [edge_row(src, dst, values) for src, dst, values in rows]
        self.add_edges(rel_type, columns, b"".join(body), len(body))

    async def __aenter__(self) -> BulkLoader:
        await self._store.pause_log(True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._wait()  # nothing left running in the server on the way out
        finally:
            await self._store.pause_log(False)

    async def maybe_flush(self) -> None:
        if self._size >= self._flush_bytes:
            await self.flush()

    async def flush(self) -> None:
        """Send what was added as one command (after the previous one has finished)."""
        if not self._pending_nodes and not self._pending_edges:
            return
        nodes = [header(t.name, t.columns) + b"".join(t.parts) for t in self._nodes]
        edges = [header(t.name, t.columns) + b"".join(t.parts) for t in self._edges.values()]
        args: list[bytes | str | int] = ["BEGIN"] if not self._begun else []
        args += [self._pending_nodes, self._pending_edges, len(nodes), len(edges), *nodes, *edges]
        self._begun = True
        self._nodes.clear()
        self._edges.clear()
        self._pending_nodes = self._pending_edges = self._size = 0
        await self._wait()
        self._in_flight = self._store.bulk_insert_async(args)

    async def _wait(self) -> None:
        if self._in_flight is not None:
            await self._in_flight
            self._in_flight = None

    async def finish(self, wait_for_indexes: bool = True, index_wait_s: float = 3600.0) -> None:
        """Send the rest, then create the indexes (the graph was created without them) and,
        with ``wait_for_indexes``, wait until FalkorDB has built them in the background.
        Not waiting suits a process that stops the server next (``c360 seed``): a server
        builds every index anew from the data when it loads its files anyway."""
        await self.flush()
        await self._wait()
        await self._store.setup_schema()
        if wait_for_indexes:
            await await_indexes(self._store, index_wait_s)


async def await_indexes(store: FalkorDBStore, timeout_s: float) -> None:
    """Until every index reports OPERATIONAL (FalkorDB builds them in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    query: LiteralString = "CALL db.indexes() YIELD status RETURN status"
    while any(r["status"] != "OPERATIONAL" for r in await store.read(query)):
        if loop.time() > deadline:
            raise GraphUnavailable(f"the graph's indexes are still building after {timeout_s:.0f}s")
        await asyncio.sleep(0.2)


async def open_loader(store: GraphStore) -> BulkLoader | None:
    """A loader (use it as ``async with``) for the embedded FalkorDB's graph when it holds no
    node, or None: another backend or a server we do not run (whose write log we cannot pause,
    see FalkorDBStore.pause_log), or data there already: write with the
    ordinary upserts."""
    if not isinstance(store, FalkorDBStore) or not store.embedded_server:
        return None
    if await store.read("MATCH (n) RETURN 1 AS one LIMIT 1"):
        return None
    await store.drop_graph()
    return BulkLoader(store)


__all__ = [
    "BulkLoader",
    "await_indexes",
    "doubles",
    "edge_pairs",
    "edge_row",
    "encode_row",
    "encode_value",
    "fixed_column",
    "header",
    "numbered",
    "open_loader",
    "pack_rows",
    "string_column",
]
