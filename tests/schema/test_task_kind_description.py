"""The CHURN_RISK task kind's description states the rule the tasks follow: with a trained
churn model the riskiest tenth of its scores (its learned bar), else the rule score's
threshold (QA: it said "a churn risk score of 0.5 or more" for both)."""

from __future__ import annotations

from graphql import GraphQLEnumType

from hub.settings import Settings
from insights.tasks import CHURN_THRESHOLD
from schema.root import build_schema


def _description(kind: str) -> str:
    task_kind = build_schema(Settings())._schema.get_type("TaskKind")
    assert isinstance(task_kind, GraphQLEnumType)
    return task_kind.values[kind].description or ""


def test_churn_risk_tells_both_rules() -> None:
    text = _description("CHURN_RISK")
    # The model's rule (resolvers/tasks.py: score >= model.alert_threshold, the 90th
    # percentile of its training scores) ...
    assert "riskiest tenth" in text and "model" in text, text
    # ... and the rule score's, named as without a model.
    assert f"without one, a rule score of {CHURN_THRESHOLD:g} or more" in text, text
