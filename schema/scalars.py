"""Date and time scalars whose coercion errors say what to send, not what Python said.

strawberry's own append the parser's exception text ("invalid literal for int() with base 10:
b'nota'"): implementation detail in a client's error. These parse the same way (ISO 8601 by
dateutil for DateTime, ``date.fromisoformat`` for Date) and name the expected form instead.
A DateTime without an offset is UTC (the stored zone, as ``c360 sentiment rescore --since``
and the social resolvers read one): every DateTime a resolver gets is aware, so comparing two
never fails on a naive one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from dateutil.parser import isoparse
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from schema.long import LONG, Long


def _naming(
    definition: ScalarDefinition, parse: Callable[[str], object], example: str, description: str
) -> ScalarDefinition:
    parser = wrap_parser(parse, definition.name, include_error=False)

    def parse_value(value: object) -> object:
        try:
            return parser(value)
        except StrawberryInputCoercionError as exc:
            hint = f"{exc.message.rstrip('.')}; give ISO 8601, e.g. {example}"
            raise StrawberryInputCoercionError(hint) from None

    return dataclasses.replace(definition, parse_value=parse_value, description=description)


def _instant(value: str) -> dt.datetime:
    moment: dt.datetime = isoparse(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    dt.datetime: _naming(
        DateTimeDefinition,
        _instant,
        "2025-03-01T08:00:00Z",
        "A date and time in ISO 8601, e.g. 2025-03-01T08:00:00Z; one given without an offset "
        "is read as UTC",
    ),
    dt.date: _naming(
        DateDefinition, dt.date.fromisoformat, "2025-03-01", "A calendar date, YYYY-MM-DD"
    ),
    Long: LONG,  # counts beyond Int's 32 bits (schema/long.py)
}

__all__ = ["SCALAR_OVERRIDES"]
