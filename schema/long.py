"""``Long``: a whole number beyond GraphQL's 32-bit ``Int``, sent as a JSON number.

GraphQL's ``Int`` is 32-bit signed (to 2 147 483 647), and a value above it fails the field
("Int cannot represent non 32-bit signed integer value"); a viral post has billions of views.
Engagement counts, followers and their sums are ``Long``: integers a JSON number carries
exactly up to 2^53 - 1 (what ingest lets in per count; JavaScript's Number.MAX_SAFE_INTEGER),
serialized as a plain JSON number so a client reads them as it read ``Int``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NewType

import strawberry

# The largest integer every JSON reader (a JavaScript Number) holds exactly.
MAX_SAFE = 2**53 - 1


def _serialize(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Long cannot represent {type(value).__name__} value: {value!r}")
    number = int(value)
    if number != value:
        raise TypeError(f"Long cannot represent a non-integer value: {value!r}")
    return number


def _parse(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SAFE:
        raise ValueError(f"Long must be an integer from -{MAX_SAFE} to {MAX_SAFE}")
    return value


if TYPE_CHECKING:
    Long = int
else:
    Long = NewType("Long", int)

# Mapped onto ``Long`` by schema.scalars.SCALAR_OVERRIDES (strawberry's scalar_overrides).
LONG = strawberry.scalar(
    name="Long",
    description=(
        "A whole number beyond Int's 32 bits, as a JSON number (exact up to 2^53 - 1): "
        "engagement counts, followers and their sums"
    ),
    serialize=_serialize,
    parse_value=_parse,
)

__all__ = ["LONG", "MAX_SAFE", "Long"]
