"""``customer.recommendations``: the recommender fed with what the caller may see.

Recommendations are derived from personal data, so they follow its masking by construction:
the customer's age band is used only where the birth date shows at least as a year (and then
the band the ``ageBand`` field shows the caller: from the year alone unless the date is
revealed), amounts
(the up-sell threshold) only where amounts are revealed, and household holdings only of the
members the caller may see. A reason can therefore never quote what the caller cannot see,
and neither can the ranking.

The audit record notes what the reasons reveal (when ``reasons`` is selected): for the
customer ``recommendations.reasons`` and the fields a returned reason quotes (``incomeBand``
and ``ageBand`` for a peers' reason, ``totalAssets`` for the sustained-assets one), and for
each household member a household reason counts, ``recommendations.household`` (that they
hold the product).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from insights import history as hist
from insights.recommend import Holder, ReasonSource, Recommendation, recommend
from privacy.types import MaskMode
from privacy.types import SensitiveKind as K
from resolvers.context import RequestContext
from resolvers.nba import age_band, ages, birth_date, models

# The birth date's modes that show its year (as the ageBand field: PARTIAL is the year too).
AGE_MODES = (MaskMode.REVEAL, MaskMode.YEAR, MaskMode.PARTIAL)


def _note_revealed(
    context: RequestContext,
    customer_id: str,
    holder: Holder,
    members: list[dict[str, Any]],
    recs: list[Recommendation],
) -> None:
    """Note in the request's audit what the returned reasons reveal (module docstring)."""
    privacy = context.privacy
    sources = {reason.source for r in recs for reason in r.reasons}
    if not sources:
        return
    quoted = {"recommendations.reasons"}
    if ReasonSource.PEERS in sources:
        quoted.add("incomeBand")
        if holder.age_band:
            quoted.add("ageBand")
    if ReasonSource.AMOUNT in sources:
        quoted.add("totalAssets")
    privacy.fields[customer_id].revealed.update(quoted)
    counted = {r.code for r in recs if any(x.source == ReasonSource.HOUSEHOLD for x in r.reasons)}
    for m in members:
        held = m.get("products")
        if isinstance(held, list) and counted & set(held):
            member = str(m["id"])
            privacy.customers_touched.add(member)
            privacy.fields[member].revealed.add("recommendations.household")


async def recommendations_for(
    context: RequestContext, customer_id: str, first: int, with_reasons: bool = True
) -> list[Recommendation]:
    nba = context.nba
    privacy = context.privacy
    # Asked about, so audited, whether or not anything is recommended.
    privacy.customers_touched.add(customer_id)
    history = await nba.history.load(customer_id)
    if history is None:
        return []
    now = context.analytics_now
    members = list(history.get("members") or [])
    birth_mode = privacy.mode(customer_id, K.BIRTH_DATE)
    shows_amounts = privacy.mode(customer_id, K.AMOUNT) == MaskMode.REVEAL
    seen = set(await privacy.allowed([m["id"] for m in members]))
    members = [m for m in members if m["id"] in seen]
    # The band the caller sees: it names the peer cell, so both the reason and the score
    # (a function of the holder's features alone) follow from it and nothing finer.
    band = (
        age_band(history, now, year_only=birth_mode != MaskMode.REVEAL)
        if birth_mode in AGE_MODES
        else None
    )
    # The products' age limits read the same: the full date where it is revealed, else the
    # birth year (a limit must hold on both sides of the birthday), else unknown (no
    # age-limited product): whether a card is offered tells no more than ageBand does.
    possible = (
        ages(birth_date(history), now, year_only=birth_mode != MaskMode.REVEAL)
        if birth_mode in AGE_MODES
        else None
    )
    holder = hist.holder({**history, "members": members}, now, band, possible)
    if not shows_amounts:
        holder = replace(holder, assets=None, assets_before=None)
    model = await models(context.settings.resolved_data_dir).recommend_model(context.store, now)
    recs = recommend(holder, model, context.catalogue, first)
    if with_reasons:
        _note_revealed(context, customer_id, holder, members, recs)
    return recs


__all__ = ["recommendations_for"]
