"""Policy sources that are not policies (session 13, QA items 1-3 and 7).

regopy segfaults on a data document that is not a JSON object (and on a number written with
an exponent): a proposal of ``[]`` killed the hub, a data-dir ``data.json`` of ``[]`` killed
``c360 policy test`` (exit 139) and ``c360 serve``. Data of the right type but the wrong shape
failed inside the invariants (AttributeError, INTERNAL_SERVER_ERROR; the hub did not start);
an empty access module was answered "Expecting value" on field ``id``; four-eyes compared
subjects exactly, so ``PO-1`` approved ``po-1``'s change. Real engine, real graph.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.engines import EmbeddedEngine
from privacy.keyring import KeyRing
from privacy.policy_data import PolicyDataError, check_data, parse_data
from privacy.policy_set import PACKAGED_DIR, load_policy_set
from privacy.types import Principal, Resource
from tests.api.conftest import Api
from tests.api.seed import seed_family
from tests.security.privacy_hub import callers, open_hub

PROPOSE = """mutation P($id: String!, $source: String!) {
  proposePolicy(id: $id, source: $source) { id status passed results { name passed message } }
}"""
APPROVE = "mutation A($p: String!) { approvePolicy(proposalId: $p) { id status activated } }"
NAME = '{ customer(id: "p-1") { name } }'
# Not a data document: each one segfaulted regopy (the first four as the data root).
NOT_OBJECTS = ["[]", '"x"', "5", "null"]
WRONG_SHAPE = {
    '{"c360": 5}': "c360 must be an object",
    '{"c360": {"tables": []}}': "c360.tables must be an object",
    '{"c360": {"tables": {}}}': "c360.tables has no kinds, mode_rank, mask_profiles, resources",
}


def packaged_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGED_DIR / "data.json").read_text(encoding="utf-8"))
    return data


def errors(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body.get("errors", [])]


@pytest.fixture
async def hub(store: GraphStore, data_dir: Path) -> AsyncIterator[Callable[..., Api]]:
    await seed_family(store, "p")
    async with open_hub(store, data_dir, request_timeout_s=120.0) as client:
        yield callers(client, data_dir)


def test_the_data_document_is_checked_and_the_error_says_what_is_wrong() -> None:
    for text in NOT_OBJECTS:
        with pytest.raises(PolicyDataError, match="must be a JSON object"):
            parse_data(text)
    for text, message in WRONG_SHAPE.items():
        with pytest.raises(PolicyDataError, match=message):
            parse_data(text)
    data = packaged_data()
    data["c360"]["tables"]["resources"]["Customer"]["advisor"]["service"]["actions"] = "read"
    with pytest.raises(PolicyDataError, match=r"resources\.Customer\.advisor\.service\.actions"):
        check_data(data)
    # Numbers regopy cannot read (Python writes these with an exponent) and non-JSON ones.
    for number in ("1e20", "0.00001", "1e400", "NaN"):
        data = packaged_data()
        data["extra"] = "@"
        with pytest.raises(PolicyDataError):
            parse_data(json.dumps(data).replace('"@"', number))
    deep = packaged_data()
    deep["extra"] = json.loads("[" * 40 + "]" * 40)
    with pytest.raises(PolicyDataError, match="nested deeper"):
        check_data(deep)
    assert check_data(packaged_data()) == packaged_data()
    # The set itself refuses it: nothing holding such data can reach regopy.
    with pytest.raises(PolicyDataError):
        load_policy_set().replace("data", "[]")


async def test_a_proposal_of_bad_data_is_bad_input_and_the_hub_lives(
    hub: Callable[..., Api], data_dir: Path
) -> None:
    po1 = hub("privacy_officer", "compliance", "po-1")
    for source in [*NOT_OBJECTS, *WRONG_SHAPE]:
        body = await po1.gql(PROPOSE, {"id": "data", "source": source})
        assert errors(body) == [("BAD_USER_INPUT", "source")], (source, body)
    body = await po1.gql(PROPOSE, {"id": "data", "source": '{"c360": 5}'})
    assert "c360 must be an object" in body["errors"][0]["message"]
    # Nothing kept, and the hub still answers (regopy did not take the process down).
    assert not (data_dir / "policy-proposals.json").exists()
    assert (await po1.gql(NAME))["data"]["customer"]["name"]
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read(subject="po-1")
    assert len([r for r in records if r["operation"] == "P"]) == len(NOT_OBJECTS) + 4


async def test_an_empty_access_module_fails_its_tests_with_the_reason(
    hub: Callable[..., Api],
) -> None:
    po1 = hub("privacy_officer", "compliance", "po-1")
    body = await po1.gql(PROPOSE, {"id": "access", "source": "package c360.access"})
    assert not body.get("errors"), body
    proposal = body["data"]["proposePolicy"]
    assert proposal["status"] == "failed" and not proposal["passed"]
    messages = {r["message"] for r in proposal["results"] if not r["passed"]}
    assert any("Function not found: data.c360.access.decide" in m for m in messages), messages
    # A bad id is still named as the id.
    body = await po1.gql(PROPOSE, {"id": "Access!", "source": "package c360.access"})
    assert errors(body) == [("BAD_USER_INPUT", "id")]


async def test_four_eyes_compares_subjects_casefolded(hub: Callable[..., Api]) -> None:
    po1 = hub("privacy_officer", "compliance", "po-1")
    data = packaged_data()
    data["c360"]["tables"]["mask_profiles"]["marketing"]["ADDRESS"] = "redact"
    body = await po1.gql(PROPOSE, {"id": "data", "source": json.dumps(data)})
    proposal = body["data"]["proposePolicy"]
    assert proposal["status"] == "pending", body
    approve = {"p": proposal["id"]}
    for same in ("PO-1", " po-1 "):
        refused = await hub("privacy_officer", "compliance", same).gql(APPROVE, approve)
        assert errors(refused) == [("FORBIDDEN", None)], refused
    done = await hub("privacy_officer", "compliance", "po-2").gql(APPROVE, approve)
    assert done["data"]["approvePolicy"]["activated"], done


@pytest.mark.parametrize("text", ["[]", '{"c360": 5}'])
async def test_a_bad_data_override_fails_closed_at_start(
    store: GraphStore, data_dir: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    await seed_family(store, "p")
    (data_dir / "policies").mkdir()
    override = data_dir / "policies" / "data.json"
    override.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.INFO):
        async with open_hub(store, data_dir) as client:
            body = await callers(client, data_dir)("privacy_officer", "compliance", "po-1").gql(
                NAME
            )
            ready = await client.get("/readyz")
    assert errors(body) == [("POLICY_UNAVAILABLE", None)], body
    assert "data.json" not in body["errors"][0]["message"]
    assert ready.status_code == 503 and "policy" in ready.json()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert str(override) in logged and "fix or remove" in logged, logged


CLI_CASES = [("[]", "must be a JSON object"), ('{"c360": 5}', "c360 must be an object")]


@pytest.mark.parametrize(("text", "message"), CLI_CASES)
def test_cli_policy_test_names_a_bad_data_override(data_dir: Path, text: str, message: str) -> None:
    # A subprocess: without the check, regopy's segfault would take pytest down with it.
    (data_dir / "policies").mkdir()
    override = data_dir / "policies" / "data.json"
    override.write_text(text, encoding="utf-8")
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", "policy", "test"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert message in done.stderr and str(override) in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


async def test_odd_values_in_a_policy_input_are_decided_not_crashed() -> None:
    # The input term is built from graph rows and token claims: values an importer or an
    # identity provider may hand over (exponent numbers, NUL, line separators) are decided
    # (here: denied), never a crash. Measured: the input term is not where regopy segfaults.
    engine = EmbeddedEngine(load_policy_set(), pool_size=1)
    odd: list[object] = [1e20, 1e-05, -1e300, 2**63 - 1, "\u0000", "\u2028", "\\", [], {}]
    resources = [
        Resource("Customer", f"c{i}", {"advisorId": v, "branchId": v, "consentMarketing": v})
        for i, v in enumerate(odd)
    ]
    for sub in ("adv\u0000", "1e20", "x\u2028y"):
        decided = await engine.decide(Principal(sub, ("advisor",), "service"), "read", resources)
        assert not any(d.allow for d in decided.values())
