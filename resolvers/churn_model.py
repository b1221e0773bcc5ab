"""``churnRisk`` from the trained model, when ``c360 churn train`` has saved one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from insights import churn
from resolvers.context import RequestContext
from resolvers.nba import models


@dataclass(frozen=True)
class ModelRisk:
    score: float
    reasons: list[str]
    model: str


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
    explained = churn.explain(model, churn.features(history, moment))
    return ModelRisk(explained.score, [text for _, text in explained.reasons], model.name)


__all__ = ["ModelRisk", "model_churn_risk"]
