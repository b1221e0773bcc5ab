"""The kernel's signal to a process whose parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``)."""

from __future__ import annotations

import ctypes
import os

__all__ = ["set_parent_death_signal"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def set_parent_death_signal(sig: int) -> None:
    """Have the kernel send this process ``sig`` when its parent dies, even by SIGKILL. It
    follows the *thread* that forked this process. OSError when the kernel refuses (or on a
    system without prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
