"""``customer.recommendations``: the recommender fed with what the caller may see.

Recommendations are derived from personal data, so they follow its masking by construction:
the customer's age band is used only where the birth date shows at least as a year (and then
the band the ``ageBand`` field shows the caller: from the year alone unless the date is
revealed), amounts
(the up-sell threshold) only where amounts are revealed, and household holdings only of the
members the caller may see. A reason can therefore never quote what the caller cannot see,
and neither can the ranking.
"""

from __future__ import annotations

from dataclasses import replace

from insights import history as hist
from insights.recommend import Recommendation, recommend
from privacy.types import MaskMode
from privacy.types import SensitiveKind as K
from resolvers.context import RequestContext
from resolvers.nba import age_band, models

# The birth date's modes that show its year (as the ageBand field: PARTIAL is the year too).
AGE_MODES = (MaskMode.REVEAL, MaskMode.YEAR, MaskMode.PARTIAL)


async def recommendations_for(
    context: RequestContext, customer_id: str, first: int
) -> list[Recommendation]:
    nba = context.nba
    privacy = context.privacy
    # Asked about, so audited, whether or not anything is recommended.
    privacy.customers_touched.add(customer_id)
    history = await nba.history.load(customer_id)
    if history is None:
        return []
    now = context.now
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
    holder = hist.holder({**history, "members": members}, now, band)
    if not shows_amounts:
        holder = replace(holder, assets=None, assets_before=None)
    model = await models(context.settings.resolved_data_dir).recommend_model(context.store, now)
    return recommend(holder, model, context.catalogue, first)


__all__ = ["recommendations_for"]
