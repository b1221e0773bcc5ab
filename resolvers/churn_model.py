"""``churnRisk`` from the trained model, when ``c360 churn train`` has saved one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from insights import churn
from privacy.types import MaskMode
from resolvers.context import RequestContext
from resolvers.nba import models

# The amount modes under which churnRisk.score shows (it weighs net outflow against assets):
# the one rule for the score and for a CHURN_RISK care task's reason, which quotes it.
SCORE_MODES: tuple[str, ...] = (MaskMode.REVEAL, MaskMode.BAND, MaskMode.PARTIAL)
# The birth-date modes that show the year: the model's age is the age reached this calendar
# year (insights.churn.features), as ageBand reads it from the year alone. A reason quoting
# the age is left out for anyone else, whatever the amounts show.
AGE_MODES: tuple[str, ...] = (MaskMode.REVEAL, MaskMode.YEAR, MaskMode.PARTIAL)


@dataclass(frozen=True)
class ModelRisk:
    score: float
    reasons: list[str]
    model: str


def _hidden(context: RequestContext, customer_id: str) -> frozenset[str]:
    """The features whose explanation this caller may not see for the customer (the
    reasons field itself needs amounts revealed: schema ChurnRisk.reasons)."""
    if context.privacy.mode(customer_id, "BIRTH_DATE") in AGE_MODES:
        return frozenset()
    return churn.BIRTH_DATE_FEATURES


async def model_churn_risk(
    context: RequestContext, customer_id: str, moment: datetime
) -> ModelRisk | None:
    """The model's score and top contributing features; None without a trained model."""
    model = models(context.settings.resolved_data_dir).churn_model()
    if model is None:
        return None
    # The window ending at the moment asked about (asOf), not now.
    history = await context.nba.history_before(moment).load(customer_id)
    if history is None:
        return None
    explained = churn.explain(
        model, churn.features(history, moment), omit=_hidden(context, customer_id)
    )
    return ModelRisk(explained.score, [text for _, text in explained.reasons], model.name)


__all__ = ["AGE_MODES", "SCORE_MODES", "ModelRisk", "model_churn_risk"]
