"""Which processes listen on a TCP port: named in `c360 serve`'s "address already in use",
where the usual holder is an earlier hub still running (e.g. workers of a killed supervisor).
Linux's /proc only; only processes this user may inspect are found."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's state column


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    return inodes


def holders(port: int) -> list[str]:
    """``"pid (command)"`` of each process with a listening socket on ``port``."""
    inodes = _listening_inodes(port)
    found: list[str] = []
    if not inodes:
        return found
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:  # another user's process, or one that just exited: not ours to name
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
            if links & inodes:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} ({' '.join(cmd.split())[:80]})")  # one line
        except OSError:
            continue
    return sorted(found, key=lambda h: int(h.split()[0]))


def listen_error(host: str, port: int, exc: OSError) -> str:
    """The one-line error for a port the hub cannot listen on, naming what holds it."""
    message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    if exc.errno != errno.EADDRINUSE:
        return message
    held = holders(port)
    who = f"held by pid {', '.join(held)}" if held else "another process listens there"
    return (
        f"{message}: {who}. An earlier `c360 serve` still running? Stop it (kill PID; find it "
        f"with `ss -ltnp 'sport = :{port}'`), or choose another --port"
    )


__all__ = ["holders", "listen_error"]
