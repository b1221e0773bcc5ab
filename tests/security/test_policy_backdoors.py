"""Policy changes keyed on who asks: the invariants hold for any subject (QA, MEDIUM).

The repro: po1 proposed the shipped access module with
``decisions := x if { input.subject.sub == "mallory"; x := <everything revealed> } else :=
decide(input)``; every test and invariant passed (they asked as one fixed subject), po2
approved, and a brand analyst token with ``sub`` mallory read whole customer records. Each
candidate below is such a backdoor; each must fail the invariants, through the real engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from privacy.policy_invariants import run_invariants
from privacy.policy_set import PACKAGED_DIR, load_policy_set
from tests.api.conftest import Api
from tests.security.test_four_eyes import APPROVE, PROPOSE, codes, data_with, hub

__all__ = ["hub"]  # the fixture, shared with the four-eyes tests

SOURCE = "invariants.request_read_as_shipped"
SEES = "invariants.brand_analyst_never_sees_customers"
LINKS = "invariants.brand_analyst_never_sees_customer_links"
SHA1_OF_MALLORY = "1beef780003d3d858d399044058a46cae1b78166"  # sha1("mallory")
ALL_REVEALED = (
    '{"NAME": "reveal", "PHONE": "reveal", "NATIONAL_ID": "reveal", "EMAIL": "reveal", '
    '"ADDRESS": "reveal", "BIRTH_DATE": "reveal", "AMOUNT": "reveal", '
    '"SOCIAL_HANDLE": "reveal", "CUSTOMER_LINK": "reveal"}'
)
SHIPPED = (PACKAGED_DIR / "access.rego").read_text(encoding="utf-8")

# QA's repro, as proposed: the entry point the hub queries, keyed on one subject name.
REPRO = SHIPPED.replace(
    "decisions := decide(input)",
    "decisions := x if {\n"
    '\tinput.subject.sub == "mallory"\n'
    f'\tx := {{id: {{"allow": true, "masks": {ALL_REVEALED}, "reason": "ok"}} | '
    "some r in input.resources; id := r.id}\n"
    "} else := decide(input)",
)


def granting(condition: str) -> str:
    """The shipped module plus a role_grant body giving every role everything when
    ``condition`` (Rego, one body line over ``ctx``, ``role``, ``rtype``) holds."""
    body = (
        "\n\nrole_grant(ctx, role, rtype) := g if {\n"
        f"\t{condition}\n"
        f'\tg := {{"scope": "any", "masks": {ALL_REVEALED}, "reason": "ok"}}\n'
        "}\n"
    )
    return SHIPPED + body


# Each: the candidate module, the invariants it must fail.
BACKDOORS: dict[str, tuple[str, set[str]]] = {
    "repro_decisions_keyed_on_sub": (REPRO, {SOURCE}),
    "sub_literal": (granting('ctx.subject.sub == "mallory"'), {SOURCE}),
    "sub_renamed": (granting('s := ctx.subject; s.sub == "mallory"'), {SOURCE}),
    "sub_by_strings": (granting('ctx["subject"]["sub"] == "mallory"'), {SOURCE}),
    "branch_literal": (granting('ctx.subject.branch == "B-0007"'), {SOURCE}),
    "sub_startswith": (granting('startswith(ctx.subject.sub, "mal")'), {SOURCE}),
    # A hash no sweep can invert (of the subject name): refused for the builtin.
    "generic_walk_hashed": (
        granting(f'some s in ctx; some v in s; crypto.sha1(v) == "{SHA1_OF_MALLORY}"'),
        {SOURCE},
    ),
    "walk_the_request": (granting('walk(ctx, [_, "mallory"])'), {SOURCE}),
    # Rules that find the subject's name without naming the subject (a walk over the request,
    # a message quoting it) or compare a customer's advisor with a literal pass the invariants
    # since session 26, harmlessly: the policy is told stand-ins, never names
    # (tests/security/test_policy_stand_ins.py shows each opens nothing).
    "purpose_literal": (
        granting('role == "brand_analyst"; ctx.purpose == "brand_deep_dive"'),
        {SEES, LINKS},
    ),
}


@pytest.mark.parametrize("name", sorted(BACKDOORS))
async def test_a_backdoor_keyed_on_the_request_fails_the_invariants(name: str) -> None:
    source, broken = BACKDOORS[name]
    results = await run_invariants(load_policy_set().replace("access", source))
    failed = {r.name: r.message for r in results if not r.ok}
    assert set(failed) == broken, failed


async def test_the_repro_is_refused_with_a_reason() -> None:
    results = await run_invariants(load_policy_set().replace("access", REPRO))
    message = next(r.message for r in results if r.name == SOURCE)
    assert "module access, rule decisions" in message
    assert "input" in message and "subject" in message and "release" in message


async def test_a_data_only_purpose_is_asked_about() -> None:
    # No Rego change: a purpose only the tables name (a token can claim any purpose).
    def grant(t: dict[str, object]) -> None:
        customer = t["resources"]["Customer"]  # type: ignore[index]
        customer["brand_analyst"] = {  # type: ignore[index]
            "brand_deep_dive": {"actions": ["read"], "scope": "any", "masks": "full"}
        }

    results = await run_invariants(load_policy_set().replace("data", data_with(grant)))
    assert {r.name for r in results if not r.ok} == {SEES}


async def test_a_harmless_logic_change_still_passes() -> None:
    # A changed merge rule that touches no identity: the source check and the sweep pass it.
    candidate = SHIPPED.replace(
        "merged_masks(gs) := gs[0].masks if count(gs) == 1",
        'merged_masks(gs) := gs[0].masks if {\n\tcount(gs) == 1\n\tprint("one grant")\n}',
    )
    assert candidate != SHIPPED
    results = await run_invariants(load_policy_set().replace("access", candidate))
    assert [r.name for r in results if not r.ok] == []


async def test_the_repro_end_to_end_is_never_pending(
    hub: Callable[..., Api], data_dir: Path
) -> None:
    po1 = hub("privacy_officer", "compliance", "po1")
    po2 = hub("privacy_officer", "compliance", "po2")
    body = await po1.gql(PROPOSE, {"id": "access", "source": REPRO})
    proposal = body["data"]["proposePolicy"]
    assert proposal["status"] == "failed", json.dumps(proposal)[:2000]
    failed = [r["name"] for r in proposal["results"] if not r["passed"]]
    assert failed == [SOURCE]
    refused = await po2.gql(APPROVE, {"p": proposal["id"]})
    assert codes(refused) == ["BAD_USER_INPUT"]
    mallory = hub("brand_analyst", None, "mallory")
    seen = await mallory.gql('{ customer(id: "p-1") { name phone } }')
    assert codes(seen) == ["FORBIDDEN"], seen


@pytest.mark.parametrize(
    ("rtype", "action"),
    [
        ("DataSubject", "export"),
        ("DataSubject", "erase"),
        ("AuditLog", "read"),
        ("CareTask", "read"),
    ],
)
async def test_a_data_only_grant_of_customer_data_to_brand_analysts_fails(
    rtype: str, action: str
) -> None:
    # QA session 26: brand_analyst export on DataSubject passed every invariant (they asked
    # about Customer reads and writes only) and `customerExport` gave whole customer records.
    def grant(t: dict[str, object]) -> None:
        typed = t["resources"].setdefault(rtype, {})  # type: ignore[attr-defined]
        typed["brand_analyst"] = {"*": {"actions": [action], "scope": "any", "masks": "full"}}

    results = await run_invariants(load_policy_set().replace("data", data_with(grant)))
    assert {r.name for r in results if not r.ok} == {SEES}


async def test_a_grant_on_one_consent_without_the_other_fails() -> None:
    # QA session 26: the invariants' customers had both consents equal, so a grant to brand
    # analysts of customers who refused marketing but allow data sharing passed them all.
    source = granting('role == "brand_analyst"; rtype == "Customer"; ctx.action == "read"').replace(
        '"scope": "any"', '"scope": "sharing_only"'
    ) + (
        '\nin_scope(_, "sharing_only", r) if {\n\tr.attributes.consentMarketing == false\n'
        "\tr.attributes.consentDataSharing == true\n}\n"
    )
    results = await run_invariants(load_policy_set().replace("access", source))
    assert {r.name for r in results if not r.ok} == {SEES}
