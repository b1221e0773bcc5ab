"""Invariants every active policy must keep, whatever its Rego tests say.

They live in code, not in privacy/policies/: policy administration (putPolicy, proposePolicy)
can replace or add any Rego module and the data document, but not this file, so a policy
change cannot drop or shadow them (the attack of issue 11 M3: replace access_test without
test_privacy_officer_read_only, then grant privacy officers write). Every activation runs them
against the candidate through a real engine, asking about every purpose (none and an unknown
one included, which reach purpose-free "*" rules) and customers in and out of every scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import PolicySet
from privacy.types import (
    Decision,
    MaskMode,
    PolicyUnavailable,
    Principal,
    Purpose,
    Resource,
    SensitiveKind,
)

__all__ = ["INVARIANTS", "InvariantResult", "run_invariants", "run_invariants_sync"]

PREFIX = "invariants."
PURPOSES: tuple[str | None, ...] = (*[str(p) for p in Purpose], None, "unlisted_purpose")
SUBJECT, BRANCH = "inv-subject", "inv-branch"
UNKNOWN_KIND = "KIND_NO_POLICY_KNOWS"


@dataclass(frozen=True)
class InvariantResult:
    name: str
    ok: bool
    message: str


def _customers() -> list[Resource]:
    """Customers in and out of every scope the policy language has (managed, branch, consent)."""
    out: list[Resource] = []
    for advisor in (SUBJECT, "someone-else", None):
        for branch in (BRANCH, "other-branch", None):
            for consent in (True, False):
                attrs = {
                    "advisorId": advisor,
                    "branchId": branch,
                    "consentMarketing": consent,
                    "consentDataSharing": consent,
                }
                out.append(Resource("Customer", f"c{len(out)}", attrs))
    return out


POLICY_RESOURCES = [Resource("Policy", "policies"), Resource("Policy", "access")]

Decide = Callable[[str, str | None, str, list[Resource]], Awaitable[dict[str, Decision]]]


async def _allowed(decide: Decide, role: str, actions: tuple[str, ...], rs: list[Resource]) -> str:
    """'' when no purpose lets ``role`` do any of ``actions`` on ``rs``; else what it may do."""
    for purpose in PURPOSES:
        for action in actions:
            decided = await decide(role, purpose, action, rs)
            allowed = [r for r in rs if decided[r.id].allow]
            if allowed:
                return f"{role} may {action} {allowed[0].type} for purpose {purpose}"
    return ""


async def privacy_officer_never_writes_customers(decide: Decide, _: PolicySet) -> str:
    return await _allowed(decide, "privacy_officer", ("write",), _customers())


async def auditor_never_changes_policy(decide: Decide, _: PolicySet) -> str:
    return await _allowed(decide, "auditor", ("admin", "write"), POLICY_RESOURCES)


async def brand_analyst_never_sees_customers(decide: Decide, _: PolicySet) -> str:
    return await _allowed(decide, "brand_analyst", ("read", "write"), _customers())


def _social() -> list[Resource]:
    """Posts and social accounts, of a customer's handle and of nobody's."""
    return [
        Resource(rtype, f"{rtype}{i}", {"linkedCustomerId": linked})
        for rtype in ("Post", "SocialAccount")
        for i, linked in enumerate(("c0", None))
    ]


async def brand_analyst_never_sees_customer_links(decide: Decide, _: PolicySet) -> str:
    """Posts are public: a brand analyst told which authors are customers learns who banks
    here (QA, session 23)."""
    for purpose in PURPOSES:
        decided = await decide("brand_analyst", purpose, "read", _social())
        for r in _social():
            d = decided[r.id]
            if d.allow and d.mode_for(SensitiveKind.CUSTOMER_LINK) != MaskMode.REDACT:
                return f"brand_analyst sees CUSTOMER_LINK on {r.type} for purpose {purpose}"
    return ""


async def forgotten_kind_is_redacted(decide: Decide, policy_set: PolicySet) -> str:
    """A kind no mask profile lists is redacted, and every mode given is a known one."""
    known = {str(m) for m in MaskMode}
    for role in sorted(policy_set.roles):
        for purpose in PURPOSES:
            decided = await decide(role, purpose, "read", _customers())
            for d in decided.values():
                if not d.allow:
                    continue
                if d.mode_for(UNKNOWN_KIND) != MaskMode.REDACT:
                    return f"{role} sees a kind the policy does not list"
                odd = sorted(f"{k}={m}" for k, m in d.masks.items() if m not in known)
                if odd:
                    return f"{role} gets unknown mask modes {', '.join(odd)}"
    return ""


Invariant = Callable[[Decide, PolicySet], Awaitable[str]]
INVARIANTS: dict[str, Invariant] = {
    "privacy_officer_never_writes_customers": privacy_officer_never_writes_customers,
    "auditor_never_changes_policy": auditor_never_changes_policy,
    "brand_analyst_never_sees_customers": brand_analyst_never_sees_customers,
    "brand_analyst_never_sees_customer_links": brand_analyst_never_sees_customer_links,
    "forgotten_kind_is_redacted": forgotten_kind_is_redacted,
}


async def run_invariants(policy_set: PolicySet) -> list[InvariantResult]:
    """Each invariant's outcome for ``policy_set``; a set that does not compile fails all."""
    try:
        engine = EmbeddedEngine(policy_set, pool_size=1)
    except PolicyUnavailable as exc:
        return [InvariantResult(PREFIX + n, False, str(exc)) for n in INVARIANTS]

    async def decide(
        role: str, purpose: str | None, action: str, rs: list[Resource]
    ) -> dict[str, Decision]:
        principal = Principal(SUBJECT, (role,), purpose, BRANCH)
        return await engine.decide(principal, action, rs)

    results = []
    for name, check in INVARIANTS.items():
        try:
            broken = await check(decide, policy_set)
        except PolicyUnavailable as exc:
            broken = f"the policy fails to decide: {exc}"
        results.append(InvariantResult(PREFIX + name, not broken, broken or "passed"))
    return results


def run_invariants_sync(policy_set: PolicySet) -> list[InvariantResult]:
    """For the CLI, which has no event loop."""
    return asyncio.run(run_invariants(policy_set))
