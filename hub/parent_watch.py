"""A ``serve --workers`` process stops when its supervisor dies.

uvicorn's supervisor restarts and stops its workers; killed itself (``kill -9``, the OOM
killer), it leaves them serving the port unsupervised, and a restarted hub then fails with
"address already in use". On Linux the kernel sends the worker SIGTERM as its parent dies
(``prctl(PR_SET_PDEATHSIG)``): uvicorn's graceful shutdown, which also stops the embedded
graph server the worker may run. Elsewhere a thread watches the parent's pid.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time

from shared.parent_death import set_parent_death_signal

log = logging.getLogger("c360.hub")

# How often the portable watch looks at the parent's pid.
WATCH_EVERY_S = 1.0


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_EVERY_S)
    _stop()


def exit_with_parent() -> None:
    """In a multiprocessing child (a uvicorn worker): be sent SIGTERM when the parent dies.
    Elsewhere (a single-process hub, the tests) nothing changes."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    if sys.platform.startswith("linux"):
        set_parent_death_signal(signal.SIGTERM)
    else:
        threading.Thread(
            target=_watch, args=(parent.pid,), name="parent-watch", daemon=True
        ).start()
    # The parent may have died before the signal was asked for: the kernel would not send it.
    if os.getppid() != parent.pid:
        log.warning("serve --workers: the supervisor [%d] is gone; stopping", parent.pid)
        _stop()
