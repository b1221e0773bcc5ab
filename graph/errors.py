"""The graph layer's own exceptions: callers never see a driver's types."""

from __future__ import annotations


class GraphError(Exception):
    """Base of every graph failure."""


class GraphUnavailable(GraphError):
    """The graph cannot be reached or cannot persist (process down, socket gone, connection
    refused, disk full or read-only): try again later; nothing was acknowledged."""


class GraphLoading(GraphUnavailable):
    """The graph server is up but still loading its data from disk."""


class GraphQueryError(GraphError):
    """The graph rejected a query (syntax, constraint, type error)."""
