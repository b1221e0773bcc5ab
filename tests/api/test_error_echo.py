"""Caller input an error quotes back (an id asked for, a purpose, an erasure request id) is
capped by one helper (shared/echo.py): the first 64 characters and the length, never a 100 KB
id repeated whole in the answer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from graph.repositories.campaigns import create_campaign
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from hub.cli import app as cli
from hub.demo import seed_demo
from insights.tasks import TaskKind, task_id
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from resolvers.analytics import iso
from schema.extensions.quoted_input import MESSAGE_MAX, QUOTE_MAX, cap_quoted
from shared.echo import ECHO_MAX, ID_MAX, echo, echo_id
from tests.api.conftest import Api, codes
from tests.api.seed import seed_family

HUGE = "C" + "x" * 99_999  # a 100 000-character id
CAPPED = f"{HUGE[:ECHO_MAX]}…(100000 chars)"
# How an audit record notes it: the same cap, and the SHA-256 that names it exactly.
NOTED = f"{HUGE[:ECHO_MAX]}…(100000 chars, sha256 {hashlib.sha256(HUGE.encode()).hexdigest()})"


def test_echo_keeps_short_input_and_caps_long_input() -> None:
    assert echo("C000001") == "C000001"
    assert echo("x" * ECHO_MAX) == "x" * ECHO_MAX
    assert echo(HUGE) == CAPPED
    assert len(echo("客" * 1000)) < 100


async def test_an_unknown_huge_customer_id_is_echoed_capped(officer: Api, marketing: Api) -> None:
    """NOT_FOUND for a caller who may see every customer, FORBIDDEN for one who may not: both
    name the id in ``extensions.id``, capped; nothing else in the answer repeats it."""
    query = "query($id: ID!) { customer(id: $id) { id } }"
    for api, code in ((officer, "NOT_FOUND"), (marketing, "FORBIDDEN")):
        body = await api.gql(query, {"id": HUGE})
        assert codes(body) == [code], str(body)[:500]
        assert body["errors"][0]["extensions"]["id"] == CAPPED
        assert len(str(body)) < 1_000


async def test_an_unknown_huge_household_id_is_echoed_capped(officer: Api) -> None:
    body = await officer.gql("query($id: ID!) { household(id: $id) { name } }", {"id": HUGE})
    assert codes(body) == ["NOT_FOUND"], str(body)[:500]
    assert body["errors"][0]["extensions"]["id"] == CAPPED


async def test_an_unknown_huge_erasure_request_id_is_echoed_capped(officer: Api) -> None:
    body = await officer.gql(
        "mutation($r: String!) { withdrawErasure(requestId: $r) { id } }", {"r": HUGE}
    )
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    assert CAPPED in body["errors"][0]["message"]
    assert len(str(body)) < 1_000


async def test_a_huge_unknown_purpose_is_echoed_capped(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "X-Purpose": HUGE}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 403
    error = response.json()["error"]
    assert CAPPED.lower() in error and len(error) < 500, error[:500]


async def test_a_huge_unknown_operation_name_is_echoed_capped(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    sent = {"query": "query A { __typename }", "operationName": HUGE}
    response = await client.post("/graphql", json=sent, headers=headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == f'Unknown operation named "{CAPPED}".'


async def test_graphql_cores_own_messages_cut_a_huge_variable(officer: Api) -> None:
    """A variable's value graphql-core cannot coerce is quoted by its ``inspect`` (240
    characters at most): not ours to cap, but it must stay short too."""
    body = await officer.gql("query($n: Int) { customers(first: $n) { totalCount } }", {"n": HUGE})
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    assert len(body["errors"][0]["message"]) < 600, body["errors"][0]["message"][:700]


async def test_every_value_a_coercion_or_validation_message_quotes_is_cut(officer: Api) -> None:
    """QA session 26: a DateTime, Date or enum variable and a DateTime literal of 200 000
    characters came back whole in the message (200 KB); every one is cut at 240 characters
    and its length, the rest of the message (what to send instead) kept."""
    value = "x" * 200_000
    cut = f"{'x' * QUOTE_MAX}…(200000 chars)"
    trend = 'sentimentTrend(from: {}, to: "2026-01-01T00:00:00Z", interval: DAY) {{ count }}'
    cases: list[tuple[str, dict[str, Any] | None]] = [
        ("query($d: DateTime!) { " + trend.format("$d") + " }", {"d": value}),
        ('query($d: Date) { customer(id: "C1") { ageBand(asOf: $d) } }', {"d": value}),
        ("{ " + trend.format(f'"{value}"') + " }", None),
        ("query($o: CustomerOrder!) { customers(orderBy: $o) { totalCount } }", {"o": value}),
        ("{ customers(orderBy: " + value + ") { totalCount } }", None),
        ('{ customers(first: "' + "a'b\\n" * 50_000 + '") { totalCount } }', None),
    ]
    for query, variables in cases:
        body = await officer.gql(query, variables)
        (error,) = body["errors"]
        assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
        assert len(error["message"]) <= MESSAGE_MAX, (query[:80], error["message"][:400])
    body = await officer.gql(cases[0][0], cases[0][1])
    assert body["errors"][0]["message"] == (
        f"Variable '$d' has invalid value: Value cannot represent a DateTime: \"{cut}\"; "
        "give ISO 8601, e.g. 2025-03-01T08:00:00Z"
    )


def test_a_value_quoted_in_a_form_not_foreseen_is_cut_with_the_message() -> None:
    value = "y\\" * 2_500  # repr doubles each backslash
    assert cap_quoted(f"bad: {value!r}", [value]) == f"bad: '{echo(value, QUOTE_MAX)}'"
    escaped = "\\u0079" * 5_000  # an escape no form of cap_quoted prints
    capped = cap_quoted(f"bad: {escaped}", [value])
    assert len(capped) < MESSAGE_MAX + 40 and capped.endswith(f"…({len(escaped) + 5} chars)")


def test_echo_id_keeps_every_id_the_hub_has_and_names_a_longer_one_by_hash() -> None:
    longest_import_key = "C" * 200  # shared.records.Key: 1-200 characters
    assert echo_id(longest_import_key) == longest_import_key
    assert echo_id(f"SocialAccount:weibo:{longest_import_key}").endswith(longest_import_key)
    assert echo_id("x" * ID_MAX) == "x" * ID_MAX
    assert echo_id(HUGE) == NOTED
    assert echo_id(HUGE + "y") != echo_id(HUGE + "z")  # same head and length, other hash


def audit_lines(data_dir: Path) -> list[bytes]:
    path = data_dir / "audit" / "audit.log"
    return path.read_bytes().splitlines() if path.exists() else []


def audit_records(data_dir: Path) -> list[dict[str, Any]]:
    return AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()


async def test_a_huge_customer_id_is_noted_capped_in_the_audit_log(
    officer: Api, marketing: Api, data_dir: Path
) -> None:
    """The id asked for is noted (an attempt on a customer is audited whether it exists or
    not), but by its head, length and hash: a 100 KB id adds a record of a few KB, not 100 KB
    to the encrypted log, and the chain still verifies."""
    customer = "query($id: ID!) { customer(id: $id) { id } }"
    household = "query($id: ID!) { household(id: $id) { name } }"
    for api, query in ((officer, customer), (marketing, customer), (officer, household)):
        before = len(audit_lines(data_dir))
        body = await api.gql(query, {"id": HUGE})
        assert codes(body) in (["NOT_FOUND"], ["FORBIDDEN"]), str(body)[:500]
        added = audit_lines(data_dir)[before:]
        assert added and all(len(line) < 3_000 for line in added), [len(x) for x in added]

    records = audit_records(data_dir)
    asked = [r for r in records if NOTED in r["customer_ids"]]
    assert [r["outcome"] for r in asked] == ["error", "denied"], records
    assert all(r["fields"] == {NOTED: {"revealed": [], "masked": []}} for r in asked)
    assert [r["details"] for r in records if r["details"].get("unseen")] == [
        {"unseen": [echo_id(f"household:{HUGE}")]}
    ]
    verified = CliRunner().invoke(cli, ["audit", "verify"], env={"C360_DATA_DIR": str(data_dir)})
    assert verified.exit_code == 0 and f"OK {len(records)} records" in verified.output, (
        verified.output
    )


async def test_a_huge_operation_name_is_noted_capped_in_the_audit_log(
    officer: Api, data_dir: Path
) -> None:
    name = "Q" * 100_000
    body = await officer.gql(
        f"query {name}($id: ID!) {{ customer(id: $id) {{ id }} }}", {"id": "C1"}
    )
    assert codes(body) == ["NOT_FOUND"], str(body)[:500]
    (line,) = audit_lines(data_dir)
    assert len(line) < 3_000
    (record,) = audit_records(data_dir)
    assert record["operation"] == echo_id(name) and record["customer_ids"] == ["C1"]


async def test_huge_policy_ids_and_preview_roles_are_noted_capped(
    store: GraphStore, api: Api, data_dir: Path
) -> None:
    """Policy administration notes the caller's ids before they are checked (the write-ahead
    intent of approvePolicy, the role and purpose a preview asks about): capped too, and so
    is the unknown role the refusal names."""
    await seed_family(store, "p")
    approve = "mutation($p: String!) { approvePolicy(proposalId: $p) { id } }"
    body = await api.gql(approve, {"p": HUGE})
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    preview = """query($role: String!, $purpose: String, $id: ID!) {
      previewAccess(role: $role, purpose: $purpose, customerId: $id) { allowed } }"""
    body = await api.gql(preview, {"role": HUGE, "purpose": HUGE, "id": "p-1"})
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    assert CAPPED in body["errors"][0]["message"] and len(str(body)) < 1_000
    assert all(len(line) < 3_000 for line in audit_lines(data_dir))
    details = [r["details"] for r in audit_records(data_dir)]
    assert [d["approve_policy"] for d in details if "approve_policy" in d] == [NOTED]
    assert [d["preview"] for d in details if "preview" in d] == [{"role": NOTED, "purpose": NOTED}]


async def test_rule_and_campaign_ids_are_noted_capped_in_intent_records(
    store: GraphStore, as_role: Callable[..., Api], marketing: Api, data_dir: Path
) -> None:
    """Session-16 finding: deleteAlertRule's intent noted the id asked for whole (any id may be
    asked for: 100 KB a request into the never-truncated log), and the campaign and task
    intents noted theirs whole too."""
    brand = as_role("brand_analyst", None, "b1")
    body = await brand.gql("mutation($id: ID!) { deleteAlertRule(id: $id) }", {"id": HUGE})
    assert body["data"] == {"deleteAlertRule": False}, str(body)[:500]
    # A campaign stored under an id longer than the hub makes (K-<12 hex>): a migrated book.
    long_id = "K-" + "x" * 300
    now = datetime.now(UTC)
    await create_campaign(
        store,
        long_id,
        {"name": "n", "product": "MMF-ZZB", "channel": "APP", "controlShare": 0.2,
         "from": iso(now - timedelta(days=1)), "to": iso(now + timedelta(days=1)),
         "createdBy": "mk1", "createdAt": iso(now)},
        [],
    )  # fmt: skip
    contacted = await marketing.gql("mutation($id: ID!) { logCampaignContacts(id: $id) }",
                                    {"id": long_id})  # fmt: skip
    assert contacted["data"] == {"logCampaignContacts": 0}, str(contacted)[:500]
    assert all(len(line) < 3_000 for line in audit_lines(data_dir))
    intents = [r["details"] for r in audit_records(data_dir) if r["outcome"] == "intent"]
    assert [d["delete"] for d in intents if "delete" in d] == [echo_id(f"AlertRule:{HUGE}")]
    assert [d["logCampaignContacts"] for d in intents if "logCampaignContacts" in d] == [
        echo_id(long_id)
    ]
    assert echo_id(long_id) != long_id


async def test_a_long_task_id_is_noted_capped_in_the_intent_record(
    store: GraphStore, as_role: Callable[..., Api], data_dir: Path
) -> None:
    """A care task's id holds the customer's and the interaction's ids (import keys of up to
    200 characters each, so up to ~430 together): completeTask's intent notes it capped, with
    its hash. Here the interaction's id alone makes it long (a book migrated into the graph)."""
    await seed_demo(store, customers=40, seed=42, progress=False)
    (managed,) = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) "
        "RETURN a.id AS advisor, c.id AS customer ORDER BY customer LIMIT 1"
    )
    made = datetime.now(UTC) - timedelta(days=10)
    complaint = "I-" + "x" * 250
    await upsert_interactions(
        store,
        [{"id": complaint, "customerId": managed["customer"],
          "props": {"channel": "PHONE", "kind": "COMPLAINT", "time": iso(made),
                    "summary": "转账失败", "resolved": False}}],
    )  # fmt: skip
    task = task_id(TaskKind.COMPLAINT, managed["customer"], made.date() + timedelta(days=7),
                   complaint)  # fmt: skip
    assert len(task) > ID_MAX
    advisor = as_role("advisor", "service", managed["advisor"])
    done = await advisor.gql(
        "mutation($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { kind } }",
        {"id": task, "note": "已电话联系客户"},
    )
    assert done["data"] == {"completeTask": {"kind": "CARE"}}, str(done)[:500]
    intents = [r["details"] for r in audit_records(data_dir) if r["outcome"] == "intent"]
    assert [d["completeTask"] for d in intents if "completeTask" in d] == [echo_id(task)]
