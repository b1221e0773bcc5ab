"""The URLs of the services the hub talks to (``C360_GRAPH_URL``, ``C360_OPA_URL``): the forms
each may take, checked with the other settings so a value that can never work stops the start
(exit 2) instead of leaving a hub that is never ready."""

from __future__ import annotations

from urllib.parse import urlsplit

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
FALKOR_SCHEMES = ("redis://", "rediss://", "falkor://", "falkors://", "unix://")


def graph_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as C360_GRAPH_URL (empty: the embedded graph), or None."""
    if not url or url.startswith(NEO4J_SCHEMES + FALKOR_SCHEMES):
        return None
    return (
        "has an unknown scheme; use bolt:// or neo4j:// for Neo4j, redis:// for a FalkorDB "
        "server, or leave it empty for the embedded graph"
    )


def opa_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as C360_OPA_URL (empty: the embedded engine), or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            "must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8181, or "
            "empty for the embedded policy engine"
        )
    return None


__all__ = ["FALKOR_SCHEMES", "NEO4J_SCHEMES", "graph_url_problem", "opa_url_problem"]
