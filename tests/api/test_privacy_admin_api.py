"""Privacy administration over GraphQL: the audit trail, policies (test, then activate) and
access previews, each decided by the policy and audited itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from privacy.policy_set import PACKAGED_DIR
from tests.api.conftest import ALL_PURPOSES, Api
from tests.api.seed import seed_family

EVENTS = """query Trail($filter: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { seq subject roles purpose operation querySha256 customerIds outcome
      policyRevision decisionIds fields { customerId revealed masked } details } }
  }
}"""
POLICIES = "{ policies { id revision tests source } }"
PUT = """mutation($id: String!, $source: String!) {
  putPolicy(id: $id, source: $source) {
    passed activated oldRevision newRevision results { name passed message }
  }
}"""
PROPOSE = """mutation($id: String!, $source: String!) {
  proposePolicy(id: $id, source: $source) { id status passed candidateRevision
    results { name passed message } }
}"""
APPROVE = """mutation($p: String!) { approvePolicy(proposalId: $p) { id status activated } }"""
PREVIEW = """query($role: String!, $purpose: String, $id: ID!, $subject: String) {
  previewAccess(role: $role, purpose: $purpose, customerId: $id, subject: $subject) {
    allowed reason fields { field kind mode masked }
  }
}"""
MARKETING_VIEW = 'query View { customer(id: "p-1") { idNumber address phone } }'


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def data_with(change: Callable[[dict], None]) -> str:
    data = json.loads((PACKAGED_DIR / "data.json").read_text(encoding="utf-8"))
    change(data["c360"]["tables"])
    return json.dumps(data, ensure_ascii=False)


async def test_audit_events_list_reads_and_are_audited_themselves(
    store: GraphStore, api: Api, marketing: Api, data_dir: Path
) -> None:
    await seed_family(store, "p")
    await marketing.gql(MARKETING_VIEW)
    await api.gql('query Officer { customer(id: "p-2") { name } }')

    body = await api.gql(EVENTS, {"first": 10})
    assert "errors" not in body, body
    events = body["data"]["auditEvents"]
    nodes = [e["node"] for e in events["edges"]]
    assert events["totalCount"] == 2 and [n["seq"] for n in nodes] == [2, 1]  # newest first
    view = nodes[1]
    assert view["subject"] == "mk1" and view["roles"] == ["marketing_analyst"]
    assert view["purpose"] == "marketing" and view["operation"] == "View"
    assert view["outcome"] == "ok" and view["customerIds"] == ["p-1"]
    assert view["fields"] == [
        {"customerId": "p-1", "revealed": [], "masked": ["address", "idNumber", "phone"]}
    ]
    assert len(view["querySha256"]) == 64 and view["decisionIds"] and view["policyRevision"]

    # Reading the trail was itself recorded; filters and paging work on the records.
    body = await api.gql(EVENTS, {"filter": {"subject": "mk1"}, "first": 1})
    page = body["data"]["auditEvents"]
    assert page["totalCount"] == 1 and not page["pageInfo"]["hasNextPage"]
    newest = await api.gql(EVENTS, {"first": 1})
    first = newest["data"]["auditEvents"]
    assert first["edges"][0]["node"]["operation"] == "Trail"
    assert first["edges"][0]["node"]["details"] == {"resources": ["AuditLog:audit"]}
    rest = await api.gql(EVENTS, {"first": 10, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["seq"] for e in rest["data"]["auditEvents"]["edges"]] == [3, 2, 1]

    assert AuditLog(data_dir / "audit", KeyRing.load(data_dir)).verify().ok


async def test_only_privacy_roles_read_the_trail(store: GraphStore, marketing: Api) -> None:
    body = await marketing.gql(EVENTS, {"first": 5})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await marketing.gql(POLICIES)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_policies_list_sources_revisions_and_tests(store: GraphStore, api: Api) -> None:
    body = await api.gql(POLICIES)
    assert "errors" not in body, body
    by_id = {p["id"]: p for p in body["data"]["policies"]}
    assert {"access", "access_test", "data"} <= set(by_id)
    assert "package c360.access" in by_id["access"]["source"]
    assert "test_marketing_needs_consent" in by_id["access_test"]["tests"]
    assert all(len(p["revision"]) == 64 for p in by_id.values())


async def test_a_policy_change_activates_only_when_the_tests_pass_and_another_officer_approves(
    store: GraphStore, api: Api, marketing: Api, data_dir: Path, make_token: Callable[..., str]
) -> None:
    await seed_family(store, "p")
    second = Api(api.client, make_token(sub="u2", purposes=ALL_PURPOSES))
    before = (await marketing.gql(MARKETING_VIEW))["data"]["customer"]
    assert before["idNumber"] is None and before["address"].startswith("北京市")

    # Revealing national ids to marketing breaks test_marketing_needs_consent: failed, and
    # never pending, so nobody can approve it.
    leaky = data_with(lambda t: t["mask_profiles"]["marketing"].update(NATIONAL_ID="reveal"))
    report = await api.gql(PROPOSE, {"id": "data", "source": leaky})
    assert "errors" not in report, report
    refused = report["data"]["proposePolicy"]
    assert refused["passed"] is False and refused["status"] == "failed"
    failed = [r for r in refused["results"] if not r["passed"]]
    assert [r["name"] for r in failed] == ["access_test.test_marketing_needs_consent"]
    assert codes(await second.gql(APPROVE, {"p": refused["id"]})) == ["BAD_USER_INPUT"]
    assert (await marketing.gql(MARKETING_VIEW))["data"]["customer"]["idNumber"] is None

    # Hiding addresses from marketing passes every test: active once a second officer approves.
    stricter = data_with(lambda t: t["mask_profiles"]["marketing"].update(ADDRESS="redact"))
    proposed = (await api.gql(PROPOSE, {"id": "data", "source": stricter}))["data"]
    pid = proposed["proposePolicy"]["id"]
    assert (await marketing.gql(MARKETING_VIEW))["data"]["customer"]["address"] is not None
    done = (await second.gql(APPROVE, {"p": pid}))["data"]["approvePolicy"]
    assert done["activated"] and done["status"] == "approved"
    assert (await marketing.gql(MARKETING_VIEW))["data"]["customer"]["address"] is None
    assert (data_dir / "policies" / "data.json").read_text(encoding="utf-8") == stricter

    # Both proposals and the activation are in the trail with their revisions.
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    proposals = [
        r["details"]["policy_proposal"] for r in records if "policy_proposal" in r["details"]
    ]
    assert [p["status"] for p in proposals] == ["failed", "pending"]
    changes = [r["details"]["policy_change"] for r in records if "policy_change" in r["details"]]
    assert [(c["activated"], c["approver"], c["proposer"]) for c in changes] == [(True, "u2", "u1")]
    assert changes[0]["new_revision"] == proposals[1]["candidate_revision"]


async def test_policy_changes_need_the_admin_action_and_a_valid_id(
    store: GraphStore, api: Api, marketing: Api
) -> None:
    denied = await marketing.gql(PROPOSE, {"id": "access", "source": "package x"})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await api.gql(PROPOSE, {"id": "../etc", "source": "package x"})
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    broken = await api.gql(PROPOSE, {"id": "access", "source": "package c360.access\nx := "})
    assert broken["data"]["proposePolicy"]["status"] == "failed"
    # The one-step putPolicy is refused while the two-person rule is on (the default).
    put = await api.gql(PUT, {"id": "access", "source": "package x"})
    assert put["data"] is None and codes(put) == ["FORBIDDEN"]


async def test_preview_access_shows_each_field_and_why(store: GraphStore, api: Api) -> None:
    await seed_family(store, "p")
    args = {"role": "marketing_analyst", "purpose": "marketing", "id": "p-1"}
    body = await api.gql(PREVIEW, args)
    assert "errors" not in body, body
    preview = body["data"]["previewAccess"]
    assert preview["allowed"] and "marketing_analyst" in preview["reason"]
    fields = {f["field"]: f for f in preview["fields"]}
    assert fields["idNumber"] == {
        "field": "idNumber", "kind": "NATIONAL_ID", "mode": "redact", "masked": True
    }  # fmt: skip
    assert fields["phone"]["mode"] == "partial" and fields["segment"]["masked"] is False

    other = await api.gql(PREVIEW, {**args, "role": "advisor", "purpose": "service"})
    assert other["data"]["previewAccess"]["allowed"] is False
    own = await api.gql(
        PREVIEW, {**args, "role": "advisor", "purpose": "service", "subject": "p-adv"}
    )
    assert own["data"]["previewAccess"]["allowed"] is True
    assert all(not f["masked"] for f in own["data"]["previewAccess"]["fields"])

    missing = await api.gql(PREVIEW, {**args, "id": "nobody"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_preview_access_refuses_an_unknown_role_or_purpose(
    store: GraphStore, api: Api
) -> None:
    """A misspelt role or purpose was answered "denied" as if the policy had decided it."""
    await seed_family(store, "p")
    args = {"role": "marketing_analyst", "purpose": "marketing", "id": "p-1"}
    for bad, field, listed in (
        ({"role": "advisr"}, "role", "advisor, auditor, brand_analyst, marketing_analyst"),
        ({"purpose": "marketng"}, "purpose", "compliance, marketing, risk, service"),
    ):
        body = await api.gql(PREVIEW, {**args, **bad})
        assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"], body
        error = body["errors"][0]
        assert error["extensions"]["field"] == field
        assert repr(bad[field]) in error["message"] and listed in error["message"], error
    # No purpose is one a request may carry too: previewed, not refused.
    none = await api.gql(PREVIEW, {**args, "purpose": None})
    assert "errors" not in none and none["data"]["previewAccess"]["allowed"] is False, none


CHAIN = "{ auditChain { verified records lastSeq lastCheckpoint { seq time } problems checkedAt } }"


async def test_audit_chain_status_for_officers_and_auditors(
    store: GraphStore, api: Api, marketing: Api, as_role: Callable[..., Api], data_dir: Path
) -> None:
    await seed_family(store, "q")
    await api.gql('query Officer { customer(id: "q-1") { name } }')
    body = await api.gql(CHAIN)
    assert "errors" not in body, body
    chain = body["data"]["auditChain"]
    # The walk ran before this request's own record was appended.
    assert chain["verified"] and chain["problems"] == []
    assert chain["records"] == chain["lastSeq"] == 1
    auditor = await as_role("auditor", "compliance", "aud1").gql(CHAIN)
    assert auditor["data"]["auditChain"]["verified"], auditor

    denied = await marketing.gql(CHAIN)
    assert denied["data"] is None and codes(denied) == ["FORBIDDEN"]
    assert AuditLog(data_dir / "audit", KeyRing.load(data_dir)).verify().ok
