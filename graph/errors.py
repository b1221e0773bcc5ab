"""The graph layer's own exceptions: callers never see a driver's types."""

from __future__ import annotations


class GraphError(Exception):
    """Base of every graph failure."""


class GraphUnavailable(GraphError):
    """The graph cannot be reached (process down, socket gone, connection refused)."""


class GraphQueryError(GraphError):
    """The graph rejected a query (syntax, constraint, type error)."""
