"""What a policy is told about who asks: stand-ins, never names.

A policy may compare the subject with a customer's advisor and the subject's branch with a
customer's branch (an advisor sees their own book, a branch role its branch), and the tables
key grants on roles and purposes. It has no business telling one person from another: a rule
that did (``input.subject.sub == "mallory"``, or the same name assembled at run time, or a
customer's advisor compared with a literal) would hand one token what the same role's other
holders do not get. The invariants refuse the spellings they can see (privacy/policy_invariants.py);
the engine input makes the rest impossible: every engine is asked with the subject, its branch
and the identities among a resource's attributes replaced by what they are to the subject
(``<subject>``, ``<another advisor>``, ``<subject's branch>``, ...), so a rule can only ever
say "the subject's own" or "someone else's", never whose.

The answer's reason may quote the subject's stand-in ("Customer is not managed by advisor
<subject>"): :func:`told` puts the asker's name back, after the decision cache, which keeps
the stand-in answer for every holder of the same roles and purpose.
"""

from __future__ import annotations

from typing import Any

from privacy.types import Principal

__all__ = ["SUBJECT", "principal_input", "resource_attributes", "told"]

SUBJECT = "<subject>"
OTHER_ADVISOR = "<another advisor>"
BRANCH = "<subject's branch>"
OTHER_BRANCH = "<another branch>"
A_CUSTOMER = "<a customer>"


def principal_input(principal: Principal) -> dict[str, Any]:
    """The subject as the policy sees it: its roles, and stand-ins for its name and branch."""
    return {
        "sub": SUBJECT,
        "roles": list(principal.roles),
        "branch": BRANCH if principal.branch is not None else None,
    }


def _relation(value: Any, own: str | None, same: str, other: str) -> Any:
    if not isinstance(value, str):
        return value  # missing (None) matches nobody, as before
    return same if own is not None and value == own else other


def resource_attributes(principal: Principal, attributes: dict[str, Any]) -> dict[str, Any]:
    """A resource's attributes as the policy sees them: its advisor and branch as the
    subject's own or another's, a linked customer as present or not; the consents (and any
    attribute that names nobody) as they are."""
    if not attributes:
        return attributes
    seen = dict(attributes)
    if "advisorId" in seen:
        seen["advisorId"] = _relation(seen["advisorId"], principal.subject, SUBJECT, OTHER_ADVISOR)
    if "branchId" in seen:
        seen["branchId"] = _relation(seen["branchId"], principal.branch, BRANCH, OTHER_BRANCH)
    if isinstance(seen.get("linkedCustomerId"), str):
        seen["linkedCustomerId"] = A_CUSTOMER
    return seen


def told(reason: str, principal: Principal) -> str:
    """The policy's reason as the asker reads it: their own name where it quoted the stand-in."""
    return reason.replace(SUBJECT, principal.subject) if SUBJECT in reason else reason
