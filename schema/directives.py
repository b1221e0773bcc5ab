"""``@sensitive(kind)``: declared once, put on every personal field.

The privacy layer reads the kind from the field's ``metadata["sensitive"]`` (or the directive
itself) to pick a mask; the directive also shows in the exported SDL.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema_directive import Location

from privacy.types import SensitiveKind as _SensitiveKind

SensitiveKind = strawberry.enum(_SensitiveKind, name="SensitiveKind")

SENSITIVE_METADATA_KEY = "sensitive"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Personal data: the privacy policy decides per request how it is revealed.",
)
class Sensitive:
    kind: SensitiveKind


def sensitive(kind: _SensitiveKind, **kwargs: Any) -> Any:
    """``strawberry.field`` for a personal field (usable as a decorator for resolvers)."""
    return strawberry.field(
        directives=[Sensitive(kind=kind)],
        metadata={SENSITIVE_METADATA_KEY: kind},
        **kwargs,
    )


__all__ = ["SENSITIVE_METADATA_KEY", "Sensitive", "SensitiveKind", "sensitive"]
