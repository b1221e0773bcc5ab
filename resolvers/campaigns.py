"""Campaigns for marketing analysts: the audience evaluated by the hub and decided by the
policy (a customer the policy does not let the caller see, e.g. one who has not consented to
marketing, is never in it: there is no consent check in code), a seeded control group,
contacts logged as MARKETING interactions, and conversions with lift."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, NoReturn, get_args

from pydantic import TypeAdapter, ValidationError

from graph.repositories import campaigns as repo
from graph.store import Row
from insights.campaigns import CONTROL, TREATMENT, CampaignResult, outcome, split_control
from insights.catalogue import Ages, CatalogueProduct
from insights.recommend import CLOSED, offerable
from privacy.types import MaskMode, Resource
from privacy.types import SensitiveKind as K
from resolvers.analytics import iso, iso_bound, iso_exact, parse_time
from resolvers.context import RequestContext
from resolvers.customers import customers_page
from resolvers.errors import BadUserInput, NotFound
from resolvers.nba import ages
from resolvers.pagination import Page
from resolvers.privacy import CUSTOMER, READ, WRITE, ForbiddenFilter
from resolvers.search import bounded_batches, refuse_beyond
from shared.as_of import MAX_YEARS_AWAY, YEARS_AWAY
from shared.echo import echo_id
from shared.records import InteractionChannel, Risk
from shared.validators import has_format_character

CAMPAIGN = "Campaign"
CHANNELS: tuple[str, ...] = get_args(InteractionChannel)
MAX_CONTROL_SHARE = 0.9
MAX_NAME_CHARS = 200
# The ages an audience may be bounded by: a bound at either end excludes nobody.
MIN_AGE, MAX_AGE = 0, 150
# No filter needs more values than this (the vocabularies are a handful of names): a longer
# list is a mistake, refused before each value is checked (QA: 40,000 copies of "保守").
MAX_FILTER_VALUES = 100
# What of the birth date an age filter may read: the year at least.
AGES_SEEN = (MaskMode.REVEAL, MaskMode.YEAR)
# The risk profiles a customer can have: the import's vocabulary (shared.records.Risk), which
# also reads the English names (CONSERVATIVE -> 保守) the way the importer stores them.
RISK = TypeAdapter(Risk)
RISK_PROFILES: tuple[str, ...] = get_args(get_args(Risk)[0])
# How to bring an audience under C360_SEARCH_MAX_CANDIDATES: the filters the graph applies
# (ages are worked out from the customers read, so they do not lessen the reading).
NARROW_AUDIENCE = (
    "narrow the audience: give incomeBands, riskProfiles, holds or notHolds (minAge and "
    "maxAge are applied to the customers read and do not narrow it)"
)
NARROW_MEMBERS = (
    "it was created before audiences were bounded, or under a larger "
    "C360_SEARCH_MAX_CANDIDATES: create campaigns of narrower audiences in its place"
)


@dataclass(frozen=True)
class Audience:
    income_bands: list[str] | None = None
    risk_profiles: list[str] | None = None
    holds: str | None = None
    not_holds: str | None = None
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    audience: Audience
    product: str
    channel: str
    start: datetime
    end: datetime
    control_share: float


async def require_campaign(context: RequestContext, campaign_id: str, action: str) -> None:
    await context.privacy.require_resource(Resource(CAMPAIGN, campaign_id, {}), action)


def _ages(birth: Any, mode: str, now: datetime) -> Ages | None:
    """The ages the candidate may be as far as the caller sees the birth date: one from the
    full date where it is revealed, the two of the birth year where only the year is (a
    bound must hold either side of the birthday: a 17-year-old is never taken for 18, and the
    audience tells no more than the year), unknown otherwise."""
    if mode not in AGES_SEEN:
        return None
    return ages(birth, now, year_only=mode != MaskMode.REVEAL)


def _age_ok(possible: Ages | None, audience: Audience) -> bool:
    """The audience's minAge/maxAge hold for every age the candidate may be."""
    if audience.min_age is None and audience.max_age is None:
        return True
    if possible is None:
        return False
    youngest, oldest = possible
    low = audience.min_age if audience.min_age is not None else 0
    high = audience.max_age if audience.max_age is not None else 200
    return low <= youngest and oldest <= high


def _risk_profiles(values: list[str]) -> list[str]:
    """The filter's risk profiles as the graph stores them; BAD_USER_INPUT naming any that is
    no risk profile (it would match nobody)."""
    known: list[str] = []
    unknown: list[str] = []
    for value in values:
        try:
            known.append(RISK.validate_python(value))
        except ValidationError:
            unknown.append(value)
    if unknown:
        raise BadUserInput(
            f"audience riskProfiles: not a risk profile: {', '.join(unknown)} (the risk "
            f"profiles are {', '.join(RISK_PROFILES)})",
            field="riskProfiles",
        )
    return known


def _check_window(now: datetime, start: datetime, end: datetime) -> None:
    """BadUserInput naming ``from``/``to`` unless both lie within MAX_YEARS_AWAY of ``now``
    (as advisorTasks' window) and ``to`` is after ``from``: a window near year 1 was stored
    with an unpadded year that no later read could parse."""
    for name, moment in (("from", start), ("to", end)):
        if not now - YEARS_AWAY <= moment <= now + YEARS_AWAY:
            raise BadUserInput(f"{name} must be within {MAX_YEARS_AWAY} years of today", field=name)
    if end <= start:
        raise BadUserInput("to must be after from", field="to")


def _invisible(char: str) -> bool:
    """A character that shows nothing: a space, a control or a format character (U+200B,
    U+202E; shared.validators' rule for ids and handles)."""
    return char.isspace() or has_format_character(char) or unicodedata.category(char) == "Cc"


def _check_name(name: str) -> None:
    """BadUserInput unless the name, as it is stored (stripped), has 1..MAX_NAME_CHARS
    characters, one of them visible: a name of "\\u200b" alone is no name anyone can read
    (QA), and surrounding spaces do not count against the limit."""
    stored = name.strip()
    if not stored or len(stored) > MAX_NAME_CHARS or all(_invisible(c) for c in stored):
        raise BadUserInput(
            f"name must be 1..{MAX_NAME_CHARS} characters, not counting spaces around it, "
            "at least one of them visible",
            field="name",
        )


async def _check(context: RequestContext, spec: CampaignSpec) -> CampaignSpec:
    """``spec`` checked, its audience as the graph stores it (risk profiles by their stored
    names)."""
    _check_name(spec.name)
    if not 0 <= spec.control_share <= MAX_CONTROL_SHARE:
        raise BadUserInput(f"controlShare must be in 0..{MAX_CONTROL_SHARE}", field="controlShare")
    _check_window(context.now, spec.start, spec.end)
    if spec.channel not in CHANNELS:
        raise BadUserInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    catalogue = context.catalogue
    if catalogue.get(spec.product) is None:
        raise BadUserInput(
            "no catalogue product with this code (the hub's product catalogue)",
            field="product",
        )
    a = spec.audience
    # A filter that can match nobody is a mistake, not an audience of 0.
    for name, code in (("holds", a.holds), ("notHolds", a.not_holds)):
        if code is not None and catalogue.get(code) is None:
            raise BadUserInput(f"audience {name}: no catalogue product with this code", field=name)
    if a.holds is not None and a.holds == a.not_holds:
        raise BadUserInput("audience holds and notHolds name the same product", field="notHolds")
    # An empty list is "IN []": nobody. Leaving the filter out is how to mean everyone.
    for name, values in (("incomeBands", a.income_bands), ("riskProfiles", a.risk_profiles)):
        if values is not None and not values:
            raise BadUserInput(f"audience {name}: give at least one, or leave it out", field=name)
        if values is not None and len(values) > MAX_FILTER_VALUES:
            raise BadUserInput(
                f"audience {name}: at most {MAX_FILTER_VALUES} values (each counts once)",
                field=name,
            )
    if a.risk_profiles is not None:
        a = replace(a, risk_profiles=_risk_profiles(a.risk_profiles))
    if a.income_bands is not None:
        # Against the fixed list, not the book: "no customer has it" answered from every
        # customer told of those the caller may not see (one without marketing consent).
        known = catalogue.income_bands
        unknown = sorted(set(a.income_bands) - set(known))
        if unknown:
            raise BadUserInput(
                f"audience incomeBands: not an income band: {', '.join(unknown)} (the income "
                f"bands are {', '.join(known)})",
                field="incomeBands",
            )
    ages = [x for x in (a.min_age, a.max_age) if x is not None]
    if any(not MIN_AGE <= x <= MAX_AGE for x in ages):
        raise BadUserInput(f"ages must be in {MIN_AGE}..{MAX_AGE}", field="audience")
    if len(ages) == 2 and ages[0] > ages[1]:
        raise BadUserInput("audience minAge must be at most maxAge", field="audience")
    if ages:
        _, best = await context.privacy.reach()
        if best.mode_for(K.BIRTH_DATE) not in AGES_SEEN:
            raise ForbiddenFilter(
                "filtering by age needs BIRTH_DATE revealed or as a year; leave minAge and "
                "maxAge out",
                field="minAge" if a.min_age is not None else "maxAge",
            )
    return replace(spec, audience=a)


async def _audience(context: RequestContext, a: Audience, product: CatalogueProduct) -> list[str]:
    """Every customer matching the filter that the policy lets the caller see and who may be
    offered ``product`` (the recommender's rule: suitability for the risk profile and the
    product's age limits), in id order: the candidates are read and decided in batches of
    the search candidate cap, all of them (an audience is never cut short at the cap), up to
    C360_SEARCH_MAX_CANDIDATES read, beyond which it is SEARCH_TOO_BROAD before anything is
    written (search.bounded_batches, as a customer search)."""
    settings, catalogue = context.settings, context.catalogue

    async def fetch(after: str | None, cap: int) -> list[Row]:
        return await repo.audience_candidates(
            context.store,
            income_bands=a.income_bands,
            risk_profiles=a.risk_profiles,
            holds=a.holds,
            not_holds=a.not_holds,
            closed=CLOSED,
            after=after,
            limit=cap,
        )

    members: list[str] = []
    batches = bounded_batches(
        fetch,
        batch=settings.search_candidate_cap,
        ceiling=settings.search_max_candidates,
        what="the audience",
        advice=NARROW_AUDIENCE,
    )
    async for candidates in batches:
        if not candidates:
            continue
        decided = await context.privacy.decide(
            [Resource(CUSTOMER, c["id"], c["attributes"]) for c in candidates]
        )
        for c in candidates:
            decision = decided[c["id"]]
            if not decision.allow:
                continue
            # Ages only from what the caller sees of the birth date, as of the figures' day.
            birth = decision.mode_for(K.BIRTH_DATE)
            possible = _ages(c["birthDate"], birth, context.analytics_now)
            if _age_ok(possible, a) and offerable(catalogue, product, c["riskProfile"], possible):
                members.append(c["id"])
    return members


def _canonical_risk(value: str) -> str:
    """A risk profile by its stored name (CONSERVATIVE -> 保守); one that is none (a filter
    stored before profiles were checked) as written."""
    try:
        return RISK.validate_python(value)
    except ValidationError:
        return value


def _narrowing(values: list[str] | None, every: Sequence[str]) -> list[str] | None:
    """A list filter's distinct values in order, or None (no filter) when it names every
    value there is: such a list leaves out only customers with no value at all, a part of
    the unfiltered audience, whose members a second campaign would contact twice."""
    if values is None:
        return None
    distinct = sorted(set(values))
    return None if every and set(every) <= set(distinct) else distinct


def _normalised(a: Audience, income_bands: Sequence[str]) -> Audience:
    """The filter as the duplicate guard compares it: risk profiles by their stored names,
    repeated values once, a list naming every value and an age bound at the limit of what is
    accepted (MIN_AGE, MAX_AGE) left out. Each of those selects the same customers as the
    filter without it, or a part of them (an age bound also leaves out birth dates not seen),
    so a campaign that differs only by them would contact the same customers twice (QA)."""
    risks = None if a.risk_profiles is None else [_canonical_risk(r) for r in a.risk_profiles]
    return replace(
        a,
        income_bands=_narrowing(a.income_bands, income_bands),
        risk_profiles=_narrowing(risks, RISK_PROFILES),
        min_age=a.min_age if a.min_age is not None and a.min_age > MIN_AGE else None,
        max_age=a.max_age if a.max_age is not None and a.max_age < MAX_AGE else None,
    )


def _audience_key(a: Audience, income_bands: Sequence[str]) -> str:
    """The audience filter as stored on the campaign (_normalised): one text for filters
    that select the same customers however they were written (to tell a campaign created
    twice; the graph's create compares this text)."""
    data = asdict(_normalised(a, income_bands))
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _stored_key(stored: str, income_bands: Sequence[str]) -> str:
    """A stored audience filter keyed as a new one is: a campaign created before the guard
    normalised filters kept its filter as written (["保守","保守"], minAge 0). Text that is
    no filter of this shape is compared as it is."""
    try:
        return _audience_key(Audience(**json.loads(stored)), income_bands)
    except (TypeError, ValueError):
        return stored


async def _duplicate_of(
    context: RequestContext, spec: CampaignSpec, audience: str, members: list[str]
) -> Row | None:
    """The campaign of the same product, not yet ended, whose window overlaps this one's,
    with the same audience filter (or, stored before the filter was kept, the same members):
    creating this one too would contact each customer twice. None when there is none."""
    now = context.now
    for row in await repo.campaigns_of_product(context.store, spec.product):
        start, end = parse_time(_padded(row.get("from"))), parse_time(_padded(row.get("to")))
        if start is None or end is None or end <= now:
            continue  # ended (or no readable window): no contact can be logged any more
        if not (start < spec.end and spec.start < end):
            continue
        same = (
            _stored_key(row["audience"], context.catalogue.income_bands) == audience
            if row.get("audience") is not None
            else sorted(row.get("members") or []) == sorted(members)
        )
        if same:
            return {**row, "from": start, "to": end}
    return None


async def _refuse_duplicate(
    context: RequestContext, spec: CampaignSpec, row: Row | None
) -> NoReturn:
    """BAD_USER_INPUT for a campaign created twice: naming the other one (``row``) and its
    window only where the caller may read it (the policy's Campaign read), else only that one
    exists; ``row`` None (it ended or went between the write and this read): the same words
    without it."""
    other = ""
    if row is not None:
        decided = await context.privacy.decide([Resource(CAMPAIGN, str(row["id"]), {})], READ)
        if decided[str(row["id"])].allow:
            other = (
                f"campaign {row['id']} ({row.get('name') or ''}) already offers {spec.product} "
                f"to the same audience from {iso_exact(row['from'])} to {iso_exact(row['to'])}: "
                "use it (logCampaignContacts), or change the audience or the window"
            )
    raise BadUserInput(
        other
        or f"another campaign already offers {spec.product} to the same audience in an "
        "overlapping window: change the audience or the window",
        field="audience",
    )


async def create_campaign(context: RequestContext, spec: CampaignSpec) -> str:
    await require_campaign(context, "new", WRITE)
    spec = await _check(context, spec)
    product = context.catalogue.get(spec.product)
    if product is None:  # _check refused it
        raise BadUserInput("no catalogue product with this code", field="product")
    members = await _audience(context, spec.audience, product)
    audience = _audience_key(spec.audience, context.catalogue.income_bands)
    if (row := await _duplicate_of(context, spec, audience, members)) is not None:
        await _refuse_duplicate(context, spec, row)
    privacy = context.privacy
    campaign_id = f"K-{uuid.uuid4().hex[:12]}"
    groups = split_control(members, spec.control_share, campaign_id)
    # Each targeted customer is in both audit records (this intent, the request's), as
    # logCampaignContacts does: their access history shows being put in the campaign. A
    # large audience is named over several records of each (audit_intent, AuditRequest):
    # none grows with the book, and the campaign is written only once every intent part is.
    privacy.customers_touched.update(members)
    await privacy.audit_intent(
        {"createCampaign": campaign_id, "audience": len(members)}, tuple(members)
    )
    props = {
        "name": spec.name.strip(),
        "product": spec.product,
        "channel": spec.channel,
        # With their fraction of a second: what counts is compared to the true bounds.
        "from": iso_exact(spec.start),
        "to": iso_exact(spec.end),
        "controlShare": spec.control_share,
        "audience": audience,
        "createdBy": privacy.principal.subject if privacy.principal is not None else "",
        "createdAt": iso(context.now),
    }
    # The check above names the campaign a caller repeats; this write is what makes two
    # concurrent creates (two requests, two worker processes) end with one campaign: the
    # graph checks and creates in one write, and refuses the second.
    linked = await repo.create_campaign(
        context.store,
        campaign_id,
        props,
        [{"customerId": cid, "group": g} for cid, g in sorted(groups.items())],
        now=iso_exact(context.now),
    )
    if linked is None:
        await _refuse_duplicate(
            context, spec, await _duplicate_of(context, spec, audience, members)
        )
    return campaign_id


def _padded(stored: Any) -> Any:
    """A stored window time with its year as four digits: before the window's range check a
    campaign from year 1 was stored "1-01-01T00:00:00Z", which no ISO parser reads (nor does
    it compare as a string with the others)."""
    if not isinstance(stored, str) or "-" not in stored:
        return stored
    year, rest = stored.split("-", 1)
    return f"{int(year):04d}-{rest}" if year.isdigit() and len(year) < 4 else stored


async def _stored(context: RequestContext, campaign_id: str) -> dict[str, Any] | None:
    """The campaign's row, its window readable (_padded) whenever it was stored."""
    row = await repo.campaign(context.store, campaign_id)
    if row is None:
        return None
    return {**row, "from": _padded(row.get("from")), "to": _padded(row.get("to"))}


async def load_campaign(context: RequestContext, campaign_id: str) -> dict[str, Any]:
    await require_campaign(context, campaign_id, READ)
    row = await _stored(context, campaign_id)
    if row is None:
        raise NotFound("no campaign with this id", id=campaign_id)
    return {**row, "id": campaign_id}


async def campaign_result(context: RequestContext, campaign: dict[str, Any]) -> CampaignResult:
    """The campaign's figures over [from, to), bounds to their fraction of a second against
    whole-second stored times as every window (analytics.iso_bound): from 10:00:00.750 counts
    what is stored from 10:00:01; a contact the campaign logged in that first second counts
    too (it was logged at or after from: log_contacts)."""
    start, end = parse_time(campaign["from"]), parse_time(campaign["to"])
    if start is None or end is None:
        raise ValueError(f"campaign {campaign['id']} has no valid window")
    rows = await repo.campaign_outcomes(
        context.store,
        campaign["id"],
        campaign["product"],
        iso(start),
        iso_bound(start),
        iso_bound(end),
    )
    groups = {r["customerId"]: r["group"] for r in rows}
    # Times as instants (parse_time: no offset = UTC, a date alone its midnight UTC, as the
    # importer stores a date-only openedAt); a value that is no time counts nowhere.
    contacts = {
        r["customerId"]: t for r in rows if (t := parse_time(r["firstContact"])) is not None
    }
    openings = {
        r["customerId"]: [t for o in r["openings"] or [] if (t := parse_time(str(o)))] for r in rows
    }
    return outcome(groups, contacts, openings, start, end)


async def member_ids(context: RequestContext, campaign_id: str, group: str | None) -> list[str]:
    """The ids of the campaign's members of ``group`` (None: all), in id order; SEARCH_TOO_BROAD
    for more than C360_SEARCH_MAX_CANDIDATES (each is decided after): an audience made before
    createCampaign was bounded, or under a larger setting, is not read whole."""
    ceiling = context.settings.search_max_candidates
    rows = await repo.campaign_members(context.store, campaign_id, group, ceiling + 1)
    refuse_beyond(len(rows), ceiling, "the campaign's members", NARROW_MEMBERS)
    return [r["customerId"] for r in rows]


async def contacts_page(
    context: RequestContext,
    campaign_id: str,
    group: str | None,
    first: int | None,
    after: str | None,
) -> Page[Row]:
    """The campaign's contact list by id (the rows the caller may see): an export."""
    ids = await member_ids(context, campaign_id, group)
    context.privacy.details["export"] = f"{CAMPAIGN}:{campaign_id}"
    return await customers_page(context, ids, first, after)


def contact_id(campaign_id: str, customer_id: str) -> str:
    """The id of a campaign's contact with a customer: one per campaign and customer, so
    logging again (a retry, a second call) writes nothing new."""
    return "mk-" + hashlib.sha256(f"{campaign_id}\n{customer_id}".encode()).hexdigest()[:32]


async def log_contacts(context: RequestContext, campaign_id: str, ids: list[str] | None) -> int:
    """Log a MARKETING contact for treatment members (all, or ``ids``) the policy still lets
    the caller reach, within the campaign's window; control members are never contacted.
    Idempotent: how many contacts were newly logged (members contacted before: none)."""
    await require_campaign(context, campaign_id, WRITE)
    campaign = await _stored(context, campaign_id)
    if campaign is None:
        raise NotFound("no campaign with this id", id=campaign_id)
    # A contact outside the window would count nowhere (contacted counts the window's): the
    # window [from, to) to its fraction of a second, so a contact logged in the second a
    # campaign "from now" was created is within it (campaign_result counts it).
    start, end = parse_time(campaign["from"]), parse_time(campaign["to"])
    if start is None or end is None or not start <= context.now < end:
        raise BadUserInput(
            f"the campaign runs from {campaign['from']} to {campaign['to']}: contacts are "
            "logged only within its window",
            field="id",
        )
    treatment = await member_ids(context, campaign_id, TREATMENT)
    if ids is not None:
        wanted = set(ids)
        if wanted - set(treatment):
            raise BadUserInput("only treatment members of the campaign can be contacted",
                               field="customerIds")  # fmt: skip
        treatment = [cid for cid in treatment if cid in wanted]
    privacy = context.privacy
    # Members the policy no longer lets the caller reach are skipped, not an error.
    decisions = await privacy.customers.load_many(treatment)
    treatment = [c for c, d in zip(treatment, decisions, strict=True) if d and d.allow]
    privacy.customers_touched.update(treatment)
    await privacy.audit_intent({"logCampaignContacts": echo_id(campaign_id)}, tuple(treatment))
    rows = [
        {
            "id": contact_id(campaign_id, cid),
            "customerId": cid,
            "productCode": campaign["product"],
            "props": {
                "kind": "MARKETING",
                "channel": campaign["channel"],
                "time": iso(context.now),
                "summary": f"campaign {campaign['name']}",
                "campaignId": campaign_id,
                "resolved": True,
            },
        }
        for cid in treatment
    ]
    return await repo.log_marketing_contacts(context.store, rows) if rows else 0


__all__ = [
    "CAMPAIGN",
    "CONTROL",
    "TREATMENT",
    "Audience",
    "CampaignSpec",
    "campaign_result",
    "contact_id",
    "contacts_page",
    "create_campaign",
    "load_campaign",
    "log_contacts",
    "member_ids",
]
