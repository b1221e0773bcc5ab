"""The graph layer's own exceptions: callers never see a driver's types."""

from __future__ import annotations

from graph.read_limit import limit_setting


class GraphError(Exception):
    """Base of every graph failure."""


class GraphUnavailable(GraphError):
    """The graph cannot be reached or cannot persist (process down, socket gone, connection
    refused, disk full or read-only): try again later; nothing was acknowledged."""


class GraphLoading(GraphUnavailable):
    """The graph server is up but still loading its data from disk."""


class GraphTimeout(GraphError):
    """The graph server stopped a read that ran past its limit (the store's
    ``read_timeout_s``, or a job's: graph/read_limit.py)."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        # What a log line or CLI error says: the setting the limit came from, the request's or
        # the running job's (made where the read was asked for, see QueryThreads.run).
        super().__init__(
            "the graph server stopped a read that ran past the hub's limit "
            f"({limit_setting()}): ask for less or raise it{f' ({detail})' if detail else ''}"
        )


class GraphQueryError(GraphError):
    """The graph rejected a query (syntax, constraint, type error)."""


class NotUtf8Reply(GraphQueryError):
    """The reply held text that is not UTF-8 (a string property written past our clients):
    that query fails, on the event loop's reader and in the query threads alike; the
    connection stays in step (hiredis reads the whole reply before decoding it)."""

    def __init__(self) -> None:
        super().__init__("the reply held text that is not UTF-8")
