"""Customer-360 summary figures as pure functions: rows in, values out, ``now`` passed in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from graph.repositories.customer360 import BOOK_CURRENCY, LIABILITY_TYPES
from shared.times import parse_time  # the one parser of stored times (re-exported)

# Activity windows (days); the churn query reads the same ones.
FLOW_WINDOW_DAYS = 90
COMPLAINT_WINDOW_DAYS = 180
NEW_CUSTOMER_DAYS = 90
LOYAL_TENURE_DAYS = 5 * 365
DORMANT_AFTER_DAYS = 180
CHURNED_AFTER_DAYS = 365
INACTIVE_RISK_DAYS = 90

AGE_BANDS = ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


class Segment(StrEnum):
    HIGH = "HIGH"
    MIDDLE = "MIDDLE"
    MASS = "MASS"


class LifecycleStage(StrEnum):
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    LOYAL = "LOYAL"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


@dataclass(frozen=True)
class Activity:
    """What the graph knows about a customer's recent behaviour (see activity_by_customer)."""

    last_transaction_at: str | None = None
    # The customer's own: the bank's contacts (shared.records.BANK_INITIATED_KINDS) are left
    # out where it is read (activity_by_customer, nba.rule_score), so the idle days of
    # lifecycle_stage and churn_risk never count a campaign SMS or a care call.
    last_interaction_at: str | None = None
    net_flow: float = 0.0
    complaints: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> Activity:
        if not row:
            return cls()
        return cls(
            last_transaction_at=row.get("lastTransactionAt"),
            last_interaction_at=row.get("lastInteractionAt"),
            net_flow=float(row.get("netFlow") or 0.0),
            complaints=int(row.get("complaints") or 0),
        )


@dataclass(frozen=True)
class ChurnRisk:
    score: float
    reasons: list[str]


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    """The stored time format: ISO-8601 UTC with a Z, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_exact(moment: datetime) -> str:
    """``moment`` as stored where its fraction of a second counts (a campaign's window):
    :func:`iso` when it has none, else with its microseconds (``...T10:00:00.750000Z``).
    Against whole-second times compare it as an instant (:func:`parse_time`, :func:`iso_bound`)
    or through graph.timerange.fine_time, never as text ('Z' sorts after '.')."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if utc.microsecond else iso(utc)


def iso_bound(moment: datetime) -> str:
    """``moment`` as a window bound (``>= from``, ``< to``) against stored times, which are
    whole seconds (shared.validators.to_utc_iso drops an import's fraction; :func:`iso`): the
    first whole second at or after it, so a stored ``t >= bound`` is exactly ``t >= moment``
    and ``t < bound`` is ``t < moment``. From 10:00:00.750 is from 10:00:01, to 10:00:00.250 is
    to 10:00:01 (a row stored at 10:00:00 is before it). :func:`iso` cut the fraction, so a
    row at 10:00:00 was inside a window from 10:00:00.750 and outside one to 10:00:00.250
    (QA, session 22). An inclusive upper bound (``<=``): :func:`iso_before`."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return iso(utc)


def iso_before(moment: datetime) -> str:
    """The last whole second before ``moment``: as an inclusive upper bound (``<=``) against
    stored times it means exactly ``< moment`` (to 10:00:00.250 is up to 10:00:00, to
    10:00:00 up to 09:59:59). See :func:`iso_bound`."""
    utc = moment.astimezone(UTC)
    return iso(utc.replace(microsecond=0) - timedelta(seconds=0 if utc.microsecond else 1))


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in UTC: what "as of 1998-12-31" means."""
    return datetime.combine(day, time(23, 59, 59), UTC)


def _held(accounts: Iterable[dict[str, Any]]) -> tuple[float, str] | None:
    """(sum of the balances of accounts that are not loans or credit cards, their currency);
    None when one of them has no balance, because a missing balance is not a zero one, or
    they are in more than one currency: the hub holds no exchange rates, and 1 USD + 1 CNY is
    not 2 of anything (an account without a currency is in the book's, as imports store it)."""
    assets = [a for a in accounts if str(a.get("type") or "").upper() not in LIABILITY_TYPES]
    if any(a.get("balance") is None for a in assets):
        return None
    currencies = {str(a.get("currency") or BOOK_CURRENCY).upper() for a in assets}
    if len(currencies) > 1:
        return None
    currency = currencies.pop() if currencies else BOOK_CURRENCY
    # Summed exactly, each balance by its stored digits (0.1 + 0.2 is 0.3)
    return float(sum(Decimal(repr(float(a["balance"]))) for a in assets)), currency


def total_assets(accounts: Iterable[dict[str, Any]]) -> float | None:
    """The customer's assets in the book's currency (what totalAssets shows and segments
    compare with C360_SEGMENT_*_ASSETS, thresholds in that currency); None (unknown) when
    :func:`_held` has no sum or it is in another currency: 100 000 USD is not 100 000 CNY."""
    held = _held(accounts)
    return held[0] if held is not None and held[1] == BOOK_CURRENCY else None


def held_assets(accounts: Iterable[dict[str, Any]]) -> float | None:
    """The assets in their own one currency, whatever it is: for ratios (an outflow against
    what was held, in the same currency), which need no exchange rate."""
    held = _held(accounts)
    return None if held is None else held[0]


def segment(assets: float | None, high: float, middle: float) -> Segment | None:
    if assets is None:
        return None
    if assets >= high:
        return Segment.HIGH
    if assets >= middle:
        return Segment.MIDDLE
    return Segment.MASS


def segment_bounds(
    wanted: Segment, high: float, middle: float
) -> tuple[float | None, float | None]:
    """[min, max) of assets for a segment, the inverse of :func:`segment`."""
    if wanted is Segment.HIGH:
        return high, None
    if wanted is Segment.MIDDLE:
        return middle, high
    return None, middle


def age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_band(birth: date | None, today: date) -> str | None:
    if birth is None:
        return None
    years = age(birth, today)
    for upper, label in AGE_BANDS:
        if years < upper:
            return label
    return "65+"


def age_band_from_year(birth_year: int | None, today: date) -> str | None:
    """The band of the age reached in ``today``'s calendar year: all a caller who sees only
    the birth year can work out (the full date would tell whether the birthday has passed)."""
    if birth_year is None:
        return None
    return age_band(date(birth_year, 1, 1), date(today.year, 12, 31))


def segment_in_range(low: float, top: float | None, high: float, middle: float) -> Segment | None:
    """The segment of every amount in [low, top), or None when the range straddles a bound:
    what a caller who sees only an amount's band can work out."""
    first = segment(low, high, middle)
    if top is None:
        return first if first is Segment.HIGH else None
    # The largest amount below top falls in the same segment as low: no bound inside.
    if first is Segment.HIGH or top <= (middle if first is Segment.MASS else high):
        return first
    return None


def _birthday_in(year: int, birth: date) -> date:
    # 29 February is celebrated on 28 February in common years.
    if birth.month == 2 and birth.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return birth.replace(year=year)


def days_to_next_birthday(birth: date | None, today: date) -> int | None:
    """0 on the birthday itself; None when the next one falls past the calendar's end."""
    if birth is None:
        return None
    upcoming = _birthday_in(today.year, birth)
    if upcoming < today:
        if today.year == MAXYEAR:
            return None
        upcoming = _birthday_in(today.year + 1, birth)
    return (upcoming - today).days


def days_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, (now - moment).days)


def last_activity(activity: Activity) -> datetime | None:
    times = [parse_time(activity.last_transaction_at), parse_time(activity.last_interaction_at)]
    present = [t for t in times if t is not None]
    return max(present) if present else None


def lifecycle_stage(
    created_at: datetime | None,
    activity: Activity,
    account_statuses: Iterable[str | None],
    now: datetime,
) -> LifecycleStage:
    """CHURNED: every account closed, or a year without activity. DORMANT: half a year without
    activity. NEW: under 90 days of tenure. LOYAL: five years of tenure and active within the
    dormancy window. ACTIVE: the rest."""
    statuses = [str(s or "").upper() for s in account_statuses]
    idle = days_since(last_activity(activity), now)
    tenure = days_since(created_at, now)
    if statuses and all(s == "CLOSED" for s in statuses):
        return LifecycleStage.CHURNED
    if tenure is not None and tenure < NEW_CUSTOMER_DAYS:
        return LifecycleStage.NEW
    if idle is None:
        # Never active: the silence started when the customer joined.
        idle = tenure
    if idle is None:
        return LifecycleStage.ACTIVE
    if idle >= CHURNED_AFTER_DAYS:
        return LifecycleStage.CHURNED
    if idle >= DORMANT_AFTER_DAYS:
        return LifecycleStage.DORMANT
    if tenure is not None and tenure >= LOYAL_TENURE_DAYS:
        return LifecycleStage.LOYAL
    return LifecycleStage.ACTIVE


def churn_risk(assets: float | None, activity: Activity, now: datetime) -> ChurnRisk:
    """A 0..1 score from three signals, each with the reason a person can read:
    net outflow over FLOW_WINDOW_DAYS relative to assets, complaints over COMPLAINT_WINDOW_DAYS,
    and inactivity."""
    parts: list[float] = []
    reasons: list[str] = []
    outflow = max(0.0, -activity.net_flow)
    if outflow > 0:
        base = (assets or 0.0) + outflow  # what the customer held before the outflow
        share = outflow / base if base > 0 else 1.0
        parts.append(0.5 * min(1.0, share * 2))
        reasons.append(f"net outflow of {share:.0%} of assets in the last {FLOW_WINDOW_DAYS} days")
    if activity.complaints:
        parts.append(min(0.3, 0.15 * activity.complaints))
        reasons.append(
            f"{activity.complaints} complaint(s) in the last {COMPLAINT_WINDOW_DAYS} days"
        )
    idle = days_since(last_activity(activity), now)
    if idle is None or idle >= INACTIVE_RISK_DAYS:
        parts.append(0.2 if idle is None else min(0.3, 0.2 * idle / INACTIVE_RISK_DAYS))
        reasons.append("no recorded activity" if idle is None else f"no activity for {idle} days")
    score = min(1.0, sum(parts))
    return ChurnRisk(score=round(score, 3), reasons=reasons)


__all__ = [
    "Activity",
    "ChurnRisk",
    "LifecycleStage",
    "Segment",
    "age_band",
    "age_band_from_year",
    "churn_risk",
    "days_to_next_birthday",
    "end_of_day",
    "held_assets",
    "iso",
    "iso_before",
    "iso_bound",
    "iso_exact",
    "lifecycle_stage",
    "parse_date",
    "parse_time",
    "segment",
    "segment_bounds",
    "segment_in_range",
    "total_assets",
]
