"""How many rows a list field can return when arguments other than ``first`` bound it.

The cost rule (schema/extensions/shape.py) counts a list without ``first`` as
``LIST_ESTIMATE`` rows. A trend's buckets are not ten: ``sentimentTrend`` over 83 days by
HOUR returns 1 999 of them, and 30 aliases of it resolved 360 000 values while the estimate
said a few hundred. So a field whose arguments bound lists beneath it (a window
``from``/``to``/``interval``, ``topPosts``, ``topTerms``, ``brands``) sets those bounds from
the arguments it is given (literals, or the request's variables), and the lists in
:data:`SIZED_LISTS` count that many rows: the buckets the window implies (capped at the
resolvers' ``MAX_BUCKETS``), the number asked for, or the field's maximum when the request
does not tell (a variable not given).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dateutil.parser import isoparse
from graphql import FieldNode, GraphQLField, ValueNode, VariableNode, value_from_ast_untyped

from resolvers.social import MAX_BRANDS, MAX_BUCKETS, MAX_TOP_POSTS
from sentiment.trends import step

BUCKETS = "buckets"
# The largest value of each bound (what a variable or an unreadable literal counts as).
MAXIMA: dict[str, int] = {
    BUCKETS: MAX_BUCKETS,
    "topPosts": MAX_TOP_POSTS,
    "topTerms": MAX_TOP_POSTS,  # schema/social.py checks topTerms against the same cap
    "brands": MAX_BRANDS,
}
# (parent type, list field) -> the bound its size is. A new list under a windowed field goes
# here or into NOT_SIZED (tests/security/test_list_sizes.py fails until it is in one of them).
SIZED_LISTS: dict[tuple[str, str], str] = {
    ("Query", "sentimentTrend"): BUCKETS,
    ("ShareOfVoice", "buckets"): BUCKETS,
    ("BrandAlertReport", "insufficientHistory"): BUCKETS,
    ("SentimentAlert", "topPosts"): "topPosts",
    ("BrandAlert", "topPosts"): "topPosts",
    ("BrandAlert", "topTerms"): "topTerms",
    ("ShareOfVoice", "brands"): "brands",
    ("VoiceBucket", "brands"): "brands",
}
# Lists of the windowed types that no argument bounds: an alert's kinds and emotions (a
# handful each), and the alerts themselves: only the buckets that spike against their baseline
# are listed, which the data decides, not the request (at every bucket, the console's 30 days
# of HOUR alerts would cost 86 000 and be refused). They count as LIST_ESTIMATE like any other
# list; what each alert holds (topPosts, topTerms) is still sized by its arguments.
NOT_SIZED: frozenset[tuple[str, str]] = frozenset(
    {
        ("Query", "sentimentAlerts"),
        ("BrandAlertReport", "alerts"),
        ("BrandAlert", "kinds"),
        ("BrandAlert", "emotions"),
    }
)
WINDOW = ("from", "to", "interval")
UNKNOWN = object()  # a variable the request does not give
# Arguments that bound the rows of the lists below their field by the number given.
COUNTED = ("topPosts", "topTerms", "brands")

# Bounds set above a selection: (bound, rows) pairs, hashable so a fragment's measure can be
# memoised per bounds.
Bounds = tuple[tuple[str, int], ...]


def bounds_of(
    node: FieldNode, definition: GraphQLField, above: Bounds, variables: Mapping[str, Any]
) -> Bounds:
    """``above`` with the bounds ``node``'s own arguments set (a windowed field's buckets,
    its ``topPosts``...), read from literals or the request's ``variables``."""
    windowed = all(name in definition.args for name in WINDOW)
    counted = [name for name in COUNTED if name in definition.args]
    if not (windowed or counted):
        return above  # no argument of this field bounds a list: its values are not read
    bounding = {*WINDOW, *COUNTED}
    given = {
        argument.name.value: _value(argument.value, variables)
        for argument in node.arguments or ()
        if argument.name.value in bounding  # another (``brand: $brand``) bounds nothing
    }
    own: dict[str, int] = {}
    if windowed:
        own[BUCKETS] = _buckets(given, definition)
    for name in counted:
        own[name] = _count(name, given.get(name, definition.args[name].default_value))
    return tuple(sorted({**dict(above), **own}.items()))


def rows(parent: str, field: str, bounds: Bounds) -> int | None:
    """The rows list ``parent.field`` counts under ``bounds``; None: not a sized list."""
    bound = SIZED_LISTS.get((parent, field))
    if bound is None:
        return None
    return dict(bounds).get(bound, MAXIMA[bound])


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    """A literal's value, a variable's as the request gave it; UNKNOWN for a variable not
    given (its default, if any, is graphql-core's to apply: counted as the most)."""
    if isinstance(node, VariableNode):
        return variables.get(node.name.value, UNKNOWN)
    return value_from_ast_untyped(node, variables if isinstance(variables, dict) else None)


def _count(name: str, value: Any) -> int:
    most = MAXIMA[name]
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, min(value, most))
    if isinstance(value, list):
        return min(len(value), most)
    return most  # unknown (or a value validation refuses anyway)


def _buckets(given: dict[str, Any], definition: GraphQLField) -> int:
    """The buckets ``[from, to)`` touches at its ``interval``, one more for a bucket cut at
    each end (a time zone's offset), at most MAX_BUCKETS; an unknown window counts as the
    most."""
    since, until = _moment(given.get("from")), _moment(given.get("to"))
    interval = given.get("interval", definition.args["interval"].default_value)
    name = str(getattr(interval, "value", interval))
    if since is None or until is None or name not in ("HOUR", "DAY", "WEEK"):
        return MAX_BUCKETS
    if until <= since:
        return 1  # refused by the resolver, before anything is read
    return min(math.ceil((until - since) / step(name)) + 1, MAX_BUCKETS)


def _moment(value: Any) -> datetime | None:
    """A DateTime as the scalar reads it (ISO 8601, no offset = UTC); None for one the
    scalar refuses (the request is refused then anyway) or not known."""
    if not isinstance(value, str):
        return None
    try:
        moment: datetime = isoparse(value)
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["MAXIMA", "NOT_SIZED", "SIZED_LISTS", "Bounds", "bounds_of", "rows"]
