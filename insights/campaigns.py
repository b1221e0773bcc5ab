"""Campaign arithmetic: a seeded control group, and conversions with lift. Pure.

A conversion is the campaign's product opened within the campaign window [from, to): for a
contacted customer on or after the first contact (and never before from), for a control
customer (never contacted) any time in the window. ``lift`` is the difference of the two
conversion rates (percentage points as a fraction); ``relative_lift`` their ratio.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

TREATMENT, CONTROL = "TREATMENT", "CONTROL"


def split_control(customer_ids: Iterable[str], control_share: float, seed: str) -> dict[str, str]:
    """Customer id -> TREATMENT | CONTROL; the same ids and seed give the same split."""
    ids = sorted(set(customer_ids))
    random.Random(seed).shuffle(ids)
    held_out = round(len(ids) * control_share)
    return {cid: CONTROL if i < held_out else TREATMENT for i, cid in enumerate(ids)}


@dataclass(frozen=True)
class CampaignResult:
    audience: int
    treatment: int
    control: int
    contacted: int
    converted: int
    control_converted: int

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.contacted if self.contacted else None

    @property
    def control_conversion_rate(self) -> float | None:
        return self.control_converted / self.control if self.control else None

    @property
    def lift(self) -> float | None:
        rate, base = self.conversion_rate, self.control_conversion_rate
        return None if rate is None or base is None else rate - base

    @property
    def relative_lift(self) -> float | None:
        rate, base = self.conversion_rate, self.control_conversion_rate
        return None if rate is None or not base else rate / base


def outcome(
    groups: Mapping[str, str],
    first_contact: Mapping[str, datetime],
    openings: Mapping[str, Sequence[datetime]],
    start: datetime,
    end: datetime,
) -> CampaignResult:
    """``first_contact``: customer -> time of the first contact in the window; ``openings``:
    customer -> times the campaign's product was opened; ``start``/``end``: the window
    [start, end), to the fraction of a second. All instants (aware): compared as such, never
    as strings (a date alone against a time, one offset against another). Stored times are
    whole seconds, so against a ``start`` of 10:00:00.750 an opening stored at 10:00:00 is
    before it (it may have been at .200), one at 10:00:01 after it; a contact logged in that
    first second is stored at 10:00:00, so what it converted counts from ``start``."""
    treatment = [c for c, g in groups.items() if g == TREATMENT]
    control = [c for c, g in groups.items() if g == CONTROL]
    contacted = [c for c in treatment if c in first_contact]

    def converted(cid: str, since: datetime) -> bool:
        return any(max(since, start) <= t < end for t in openings.get(cid, ()))

    return CampaignResult(
        audience=len(groups),
        treatment=len(treatment),
        control=len(control),
        contacted=len(contacted),
        converted=sum(converted(c, first_contact[c]) for c in contacted),
        control_converted=sum(converted(c, start) for c in control),
    )


__all__ = ["CONTROL", "TREATMENT", "CampaignResult", "outcome", "split_control"]
