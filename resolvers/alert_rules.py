"""Per-brand alert rules for brand analysts: checked, policy-gated (resource AlertRule), kept
in the graph; ``brandAlerts(rule:)`` applies one."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.repositories import alert_rules as repo
from graph.store import GraphStore, Row
from ingest.social.query_language import QueryError
from ingest.social.query_language import parse as parse_query
from privacy.types import Resource
from resolvers import alert_secrets
from resolvers.alert_channels import refused_at_save
from resolvers.analytics import iso
from resolvers.brands import BrandNames
from resolvers.errors import BadUserInput, NotFound
from resolvers.privacy import READ, WRITE, RequestPrivacy, require_social
from resolvers.social import check_author_filter, names_hidden_author
from sentiment.alerts import AlertConfig
from shared.echo import echo_id

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CHANNELS = 5


async def _require(privacy: RequestPrivacy, key: str, action: str) -> None:
    await privacy.require_resource(Resource("AlertRule", key, {}), action)


def _given(data: dict[str, Any], key: str, default: Any) -> Any:
    """The field's value, ``default`` only when absent or null (0 is a value: checked)."""
    value = data.get(key)
    return default if value is None else value


def check_rule(rule_id: str, data: dict[str, Any], brands: BrandNames, allow: str = "") -> Row:
    """The rule's stored properties, every field checked (``field`` names the bad one); the
    brand stored as posts are tagged with it (an alias as its brand), a rule on a name that is
    no brand refused: it could never fire."""
    if not _ID.match(rule_id):
        raise BadUserInput("id: 1-64 letters, digits or _.:-", field="id")
    brand = str(data.get("brand") or "").strip()
    if not brand or len(brand) > 200:
        raise BadUserInput("brand must be 1-200 characters", field="rule.brand")
    brand = brands.canonical(brand, "rule.brand")
    query = data.get("query")
    if query is not None:
        try:
            parse_query(query)
        except QueryError as exc:
            raise BadUserInput(str(exc), field="rule.query", column=exc.column) from None
    threshold = float(_given(data, "threshold", 3.0))
    if not 1.0 <= threshold <= 20.0:
        raise BadUserInput("threshold must be between 1 and 20", field="rule.threshold")
    baseline = int(_given(data, "baselineDays", 28))
    if not 7 <= baseline <= 180:
        raise BadUserInput("baselineDays must be between 7 and 180", field="rule.baselineDays")
    volume = int(_given(data, "minVolume", 20))
    if not 1 <= volume <= 1_000_000:
        raise BadUserInput("minVolume must be at least 1", field="rule.minVolume")
    channels = list(data.get("channels") or [])
    if len(channels) > MAX_CHANNELS:
        raise BadUserInput(f"at most {MAX_CHANNELS} channels", field="rule.channels")
    for url in channels:
        why = refused_at_save(url, allow)
        if why is not None:
            raise BadUserInput(why, field="rule.channels")
    return {
        "brand": brand,
        "query": query,
        "threshold": threshold,
        "baselineDays": baseline,
        "minVolume": volume,
        "channels": channels,
    }


async def put(
    privacy: RequestPrivacy,
    store: GraphStore,
    rule_id: str,
    data: dict[str, Any],
    settings: Any,
    brands: BrandNames,
) -> Row:
    """``settings``: alert_channel_allow (internal channels named on purpose), the operator's
    env secret pairs, and the data dir of generated secrets."""
    props = check_rule(rule_id, data, brands, settings.alert_channel_allow)
    await _require(privacy, rule_id, WRITE)
    current = await repo.rule(store, rule_id)
    before = current.get("secretRef") if current else None
    props["secretRef"] = alert_secrets.check_ref(
        data.get("secretRef"), rule_id, before, settings.alert_env_secret_grants
    )
    # The rule's alerts count the posts its query matches, as a listing would.
    check_author_filter(await require_social(privacy), props.get("query"), "rule.query")
    await privacy.audit_intent({"write": f"AlertRule:{rule_id}", "rule": props})
    by = privacy.principal.subject if privacy.principal else "system"
    stored = await repo.put_rule(
        store, rule_id, props | {"updatedBy": by, "updatedAt": iso(datetime.now(UTC))}
    )
    if before == f"file:{rule_id}" and stored.get("secretRef") != before:
        # No longer referred to (the graph first): a later file:<id> needs a rotation anyway.
        alert_secrets.forget(settings.resolved_data_dir, rule_id)
    return stored


async def rotate_secret(
    privacy: RequestPrivacy, store: GraphStore, rule_id: str, data_dir: Path
) -> str:
    """A new generated webhook secret for the rule (its writers; audited, the secret not):
    kept in the data dir, referenced by the rule, returned once."""
    await _require(privacy, rule_id, WRITE)
    if await repo.rule(store, rule_id) is None:
        raise NotFound("no alert rule with this id", field="id")
    await privacy.audit_intent({"rotateSecret": echo_id(f"AlertRule:{rule_id}")})
    secret = alert_secrets.rotate(data_dir, rule_id)
    by = privacy.principal.subject if privacy.principal else "system"
    await repo.set_secret_ref(store, rule_id, f"file:{rule_id}", by, iso(datetime.now(UTC)))
    return secret


async def put_allowed(privacy: RequestPrivacy, rule_id: str) -> None:
    """Sending a rule's alerts acts for the rule: its writers only."""
    await _require(privacy, rule_id, WRITE)


async def delete(privacy: RequestPrivacy, store: GraphStore, rule_id: str, data_dir: Path) -> bool:
    """Delete the rule, then its generated secret (``data_dir``'s keys/) if it had one: in that
    order, so a crash between them leaves a file nothing uses (removed by the next delete of
    that id, or by hand), never a rule without its secret."""
    await _require(privacy, rule_id, WRITE)
    # Any id may be asked for (none is checked to delete nothing): noted capped, as every id.
    await privacy.audit_intent({"delete": echo_id(f"AlertRule:{rule_id}")})
    deleted = await repo.delete_rule(store, rule_id)
    if _ID.match(rule_id):  # a file name only for an id a rule can have (no path)
        alert_secrets.forget(data_dir, rule_id)
    return deleted


async def deliveries(
    privacy: RequestPrivacy, store: GraphStore, rule_id: str | None, status: str | None
) -> list[Row]:
    """Outbound alert deliveries, newest first: for those who may read the rules."""
    await _require(privacy, "rules", READ)
    return await repo.deliveries(store, rule_id, status)


def stored_rule(row: Row) -> Row:
    """A rule as read from the graph with the types its fields must have (brand, threshold,
    baselineDays, minVolume, channels); ValueError naming the field when one cannot be read as
    its type (written around the API, or by a version with other checks)."""
    fields: tuple[tuple[str, Any], ...] = (
        ("threshold", float),
        ("baselineDays", int),
        ("minVolume", int),
    )
    out = dict(row)
    brand = row.get("brand")
    if not isinstance(brand, str) or not brand.strip():
        raise ValueError(f"brand is {brand!r}")
    for key, kind in fields:
        value = row.get(key)
        try:
            if isinstance(value, bool):
                raise TypeError
            out[key] = kind(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{key} is {value!r}") from None
    channels = row.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ValueError(f"channels is {channels!r}")
    query = row.get("query")
    if query is not None and not isinstance(query, str):
        raise ValueError(f"query is {query!r}")
    return out


def readable(rows: list[Row]) -> list[Row]:
    """The rules that can be read (:func:`stored_rule`); each unreadable one is left out and
    logged with its id, so one garbled rule does not stop the others."""
    out = []
    for row in rows:
        try:
            out.append(stored_rule(row))
        except ValueError as exc:
            log.warning("alert rule %r is unreadable, left out: %s", row.get("id"), exc)
    return out


async def listed(
    privacy: RequestPrivacy, store: GraphStore, brand: str | None, brands: BrandNames
) -> list[Row]:
    """The readable rules (:func:`readable`) of ``brand`` (any name of it: an alias finds the
    brand's rules; a name that is no brand finds rules stored with it before brands were
    checked); a rule's query naming a handle by ``author:`` is not shown to a caller who sees
    handles hashed (review finding: the listing gave the handle away in plain text). A rule
    whose brand is not one posts are tagged with is listed, and logged (:func:`brand_problem`)."""
    await _require(privacy, "rules", READ)
    feed = await require_social(privacy)
    wanted = None if brand is None else brands.known(brand) or brand.strip()
    rows = readable(await repo.rules(store, wanted))
    for row in rows:
        if (problem := brand_problem(row, brands)) is not None:
            log.warning("alert rule %r: %s", row.get("id"), problem)
    return [
        {**row, "query": None} if names_hidden_author(feed, row.get("query")) else row
        for row in rows
    ]


def brand_problem(rule: Row, brands: BrandNames) -> str | None:
    """Why a stored rule's brand matches no post (saved before brands were checked: an alias,
    or a name no terms file knows), None when it is a brand posts are tagged with."""
    stored = str(rule["brand"])
    brand = brands.known(stored)
    if brand == stored:
        return None
    what = f"an alias of {brand}" if brand else "neither a brand nor an alias of one"
    return (
        f"its brand {stored} is {what}; posts are tagged with the brand's name only, so it "
        "raises nothing: save it again with putAlertRule"
    )


def rule_brand(rule: Row, brands: BrandNames) -> str:
    """The stored rule's brand; BAD_USER_INPUT when it matches no post (:func:`brand_problem`):
    its alerts would be none, as the scheduled evaluation finds."""
    problem = brand_problem(rule, brands)
    if problem is not None:
        raise BadUserInput(f"alert rule {rule.get('id')}: {problem}", field="rule")
    return str(rule["brand"])


async def load(privacy: RequestPrivacy, store: GraphStore, rule_id: str) -> Row:
    """One rule; NOT_FOUND when there is none, BAD_USER_INPUT naming the unreadable field
    when it is stored unreadable (:func:`stored_rule`: save it again or delete it)."""
    await _require(privacy, rule_id, READ)
    found = await repo.rule(store, rule_id)
    if found is None:
        raise NotFound("no alert rule with this id", field="rule")
    try:
        return stored_rule(found)
    except ValueError as exc:
        raise BadUserInput(
            f"alert rule is stored unreadable ({exc}); save it again with putAlertRule or "
            "delete it",
            field="rule",
        ) from None


def apply(rule: Row, config: AlertConfig, interval: str) -> AlertConfig:
    """The rule's threshold, volume and (for days) baseline over the settings' defaults."""
    baseline = int(rule["baselineDays"]) if interval == "DAY" else config.baseline
    return AlertConfig(
        threshold=float(rule["threshold"]),
        baseline=baseline,
        min_baseline=min(config.min_baseline, baseline),
        min_volume=int(rule["minVolume"]),
        min_ratio=config.min_ratio,
        min_share_lift=config.min_share_lift,
        season=config.season,
        dispersion=config.dispersion,
    )


__all__ = [
    "apply",
    "brand_problem",
    "check_rule",
    "delete",
    "deliveries",
    "listed",
    "load",
    "put",
    "put_allowed",
    "readable",
    "rotate_secret",
    "rule_brand",
    "stored_rule",
]
