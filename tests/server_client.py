"""Clients of the graph server's own socket, for tests that talk to it past the store, as an
operator's redis-cli would (server statistics, configuration, writes in an old format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis


# redis-py 8 gives up on a reply after 5 s unless told otherwise; on a loaded 2-core CI machine
# the server (an fsync on every write) can take longer, and the product's own clients wait for
# it (graph/falkordb.py SOCKET_TIMEOUT_S).
def server_client(sock: Path | str, **kwargs: Any) -> redis.Redis:
    """A blocking client of the server listening on unix socket ``sock``."""
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=None, **kwargs)


def async_server_client(sock: Path | str, **kwargs: Any) -> aioredis.Redis:
    """An asyncio client of the server listening on unix socket ``sock``."""
    return aioredis.Redis(unix_socket_path=str(sock), socket_timeout=None, **kwargs)
