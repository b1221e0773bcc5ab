"""``@sensitive(kind)``: declared once, put on every personal field.

Each such field masks its value with the mode the request's policy decision gives its kind
(schema/extensions/masking.py); the directive also shows in the exported SDL.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema_directive import Location

from privacy.types import SensitiveKind as _SensitiveKind
from schema.extensions.masking import SENSITIVE_METADATA_KEY, MaskField

SensitiveKind = _SensitiveKind
strawberry.enum(
    SensitiveKind,
    name="SensitiveKind",
    description="What a personal field holds: the privacy policy decides, per kind, how you "
    "see it (revealed, partly shown, hashed, banded, as the year only, or not at all).",
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Personal data: the privacy policy decides per request how it is revealed.",
)
class Sensitive:
    kind: SensitiveKind


def sensitive(kind: _SensitiveKind, **kwargs: Any) -> Any:
    """``strawberry.field`` for a personal field (usable as a decorator for resolvers): the
    directive shows in the SDL, the extension masks the value where it resolves."""
    return strawberry.field(
        directives=[Sensitive(kind=kind)],
        metadata={SENSITIVE_METADATA_KEY: kind},
        extensions=[MaskField(kind)],
        **kwargs,
    )


__all__ = ["SENSITIVE_METADATA_KEY", "Sensitive", "SensitiveKind", "sensitive"]
