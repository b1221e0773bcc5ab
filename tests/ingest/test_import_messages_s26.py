"""QA session 26 on `c360 import` messages and time oddities: each says what to do next."""

from __future__ import annotations

import pytest

from shared.validators import to_utc_iso


@pytest.mark.parametrize("value", ["2025-W09-6", "2025W096", "2025-W09-6T10:00:00Z"])
def test_an_iso_week_date_is_refused_not_stored_shifted(value: str) -> None:
    # It was read as midnight in Asia/Shanghai: 2025-02-28T16:00:00Z, a day early.
    with pytest.raises(ValueError, match="an ISO week date .* give the date as YYYY-MM-DD"):
        to_utc_iso(value)
    assert to_utc_iso("2025-03-01") == "2025-03-01"  # a date stays a date


def test_a_fraction_of_a_second_is_dropped_as_the_readme_says() -> None:
    assert to_utc_iso("2025-03-01T08:00:00.123Z") == "2025-03-01T08:00:00Z"
