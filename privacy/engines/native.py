"""Load order of regopy's native library, which decides whether the embedded engine leaks.

``librego_shared.so`` exports its own ``operator new``/``operator delete``. When it is loaded
before ``libstdc++.so.6``, the dynamic linker binds libstdc++'s internal allocations to the same
allocator, and memory is freed where it was allocated. When any C++ extension (rapidfuzz, for
one) has loaded libstdc++ first, libstdc++ keeps the default allocator while rego's code uses
its own: what one allocates the other cannot free, and every decision leaks (~900 KB for a
search page as privacy_officer, measured with ``bench/soak.py``). The fix is to import regopy
before any such extension: ``hub/__init__.py`` does, and ``rego_loaded_first()`` tells whether
it worked in this process (the engine logs a warning when it did not).
"""

from __future__ import annotations

import ctypes
import os
import sys

import regopy  # noqa: F401  (loads librego_shared.so, if nothing has yet)

__all__ = ["loaded_libraries", "rego_loaded_first"]

_RTLD_DI_LINKMAP = 2
_REGO = "librego_shared"
_LIBSTDCXX = "libstdc++"


class _LinkMap(ctypes.Structure):
    """glibc's ``struct link_map`` head (the public part, see <link.h>)."""


_LinkMap._fields_ = [
    ("l_addr", ctypes.c_void_p),
    ("l_name", ctypes.c_char_p),
    ("l_ld", ctypes.c_void_p),
    ("l_next", ctypes.POINTER(_LinkMap)),
    ("l_prev", ctypes.POINTER(_LinkMap)),
]


def loaded_libraries() -> list[str]:
    """Base names of the shared objects in this process, in load order (glibc only)."""
    if not sys.platform.startswith("linux"):
        return []
    libc = ctypes.CDLL(None)
    head = ctypes.POINTER(_LinkMap)()
    if libc.dlinfo(ctypes.c_void_p(libc._handle), _RTLD_DI_LINKMAP, ctypes.byref(head)) != 0:
        return []
    names: list[str] = []
    node = head
    while node:
        names.append(os.path.basename((node.contents.l_name or b"").decode(errors="replace")))
        node = node.contents.l_next
    return names


def rego_loaded_first(names: list[str] | None = None) -> bool | None:
    """True when librego_shared was loaded before libstdc++ (no leak), False when after,
    None when it cannot be told (not glibc, or a library is missing from the list)."""
    names = loaded_libraries() if names is None else names
    rego = next((i for i, n in enumerate(names) if n.startswith(_REGO)), None)
    cxx = next((i for i, n in enumerate(names) if n.startswith(_LIBSTDCXX)), None)
    if rego is None or cxx is None:
        return None
    return rego < cxx
