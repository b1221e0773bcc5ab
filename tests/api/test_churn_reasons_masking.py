"""A churn reason shows only where the caller may see what it quotes. QA, session 24: a
CHURN_RISK care task's reason quoted the score ("churn risk 60.0% (rule score)") to a caller
whose CareTask masks redact amounts, though churnRisk.score is null for them; and the model's
churnRisk.reasons said "age 46" to a caller who sees amounts but not the birth date. Through
the ASGI app over the real embedded graph and Rego, with policy data of the test's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.store import GraphStore
from insights import churn
from resolvers.nba import CHURN_FILE, write_model
from shared.settings import Settings
from tests.api.conftest import Api, serve
from tests.api.test_bank_initiated_activity import contact, customer
from tests.api.test_nba_qa18 import write_policy_data

TASKS = """{ advisorTasks(first: 50) { edges { node { customerId kind reason } } } }"""
RISK = """query($id: ID!) { customer(id: $id) { churnRisk { score reasons model } } }"""


def profiles(tables: dict[str, Any]) -> None:
    """Team leads of three mask profiles, each over the customers they manage: ``amounts``
    redacted, ``banded`` (the service profile) and ``no_birth`` (all but the birth date)."""
    masks = tables["mask_profiles"]
    masks["amounts_redacted"] = {**masks["full"], "AMOUNT": "redact"}
    masks["no_birth"] = {**masks["full"], "BIRTH_DATE": "redact"}
    for lead, profile in (("lead_redact", "amounts_redacted"), ("lead_band", "service"),
                          ("lead_no_birth", "no_birth")):  # fmt: skip
        grant = {"service": {"actions": ["read", "write"], "scope": "managed", "masks": profile}}
        tables["resources"]["CareTask"][lead] = grant
        tables["resources"]["Customer"][lead] = grant


async def at_risk(store: GraphStore, cid: str, advisor: str) -> None:
    """Rule score 0.6: two complaints 170 days ago, silent since (a CHURN_RISK task)."""
    complaints = [contact("COMPLAINT", "PHONE", 170, resolved=True) for _ in range(2)]
    await customer(store, cid, complaints, advisor=advisor)


async def test_a_churn_task_reason_shows_where_the_score_does(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    write_policy_data(data_dir, profiles)
    for lead in ("lead_redact", "lead_band"):
        await at_risk(store, f"r-{lead}", lead)
    async with serve(store, Settings(data_dir=data_dir, introspection=False)) as client:

        async def task_and_score(lead: str) -> tuple[Any, Any]:
            api = Api(client, make_token([lead], sub=lead, purpose="service", purposes=None))
            tasks = await api.gql(TASKS)
            assert not tasks.get("errors"), tasks
            (edge,) = tasks["data"]["advisorTasks"]["edges"]
            assert edge["node"]["kind"] == "CHURN_RISK", edge
            risk = await api.gql(RISK, {"id": f"r-{lead}"})
            assert not risk.get("errors"), risk
            return edge["node"]["reason"], risk["data"]["customer"]["churnRisk"]["score"]

        assert await task_and_score("lead_redact") == (None, None)
        reason, score = await task_and_score("lead_band")
        assert score == 0.6 and reason == "churn risk 60.0% (rule score)"


def age_model() -> churn.ChurnModel:
    """A model whose only weight is on age: its one reason is "age N"."""
    n = len(churn.FEATURES)
    coef = tuple(1.0 if f == "age" else 0.0 for f in churn.FEATURES)
    return churn.ChurnModel(
        mean=(0.0,) * n, scale=(1.0,) * n, coef=coef, intercept=-60.0,
        trained_at="2026-01-01T00:00:00Z", as_of="2026-01-01T00:00:00Z", metrics={},
    )  # fmt: skip


async def test_a_model_reason_quoting_the_age_needs_the_birth_date(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    write_policy_data(data_dir, profiles)
    write_model(data_dir, CHURN_FILE, age_model().to_json())
    await customer(store, "r-age", [], advisor="lead_no_birth")
    await store.write("MATCH (c:Customer {id: 'r-age'}) SET c.birthDate = '1960-05-05'")
    async with serve(store, Settings(data_dir=data_dir, introspection=False)) as client:

        async def risk(role: str, sub: str, purpose: str) -> dict[str, Any]:
            api = Api(client, make_token([role], sub=sub, purpose=purpose, purposes=None))
            body = await api.gql(RISK, {"id": "r-age"})
            assert not body.get("errors"), body
            return body["data"]["customer"]["churnRisk"]  # type: ignore[no-any-return]

        full = await risk("privacy_officer", "po1", "compliance")
        assert full["model"].startswith("logistic-regression"), full
        assert [r for r in full["reasons"] if r.startswith("age ")], full
        hidden = await risk("lead_no_birth", "lead_no_birth", "service")
        assert hidden["score"] == full["score"], hidden
        assert not [r for r in hidden["reasons"] if r.startswith("age ")], hidden
