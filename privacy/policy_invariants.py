"""Invariants every active policy must keep, whatever its Rego tests say.

They live in code, not in privacy/policies/: policy administration (putPolicy, proposePolicy)
can replace or add any Rego module and the data document, but not this file, so a policy
change cannot drop or shadow them (the attack of issue 11 M3: replace access_test without
test_privacy_officer_read_only, then grant privacy officers write). Every activation runs them
against the candidate through a real engine and the entry point the hub queries
(``data.c360.access.decisions``), asking about every purpose (none, an unlisted one and every
one the tables name included) and customers in and out of every scope.

They must hold for any subject, not only the one they ask as (QA: a rule keyed on one subject
name, ``input.subject.sub == "mallory"``, passed them all). Two layers see to that:

- the source check (``invariants.request_read_as_shipped``, :func:`source_violations`): every
  statement of the decision modules that is not one of the release's ``access.rego`` must not
  touch the request's identity (the subject, its name or branch, a resource id, ``input``
  itself, the ``decisions`` entry point), must not use ``with``, and may call only functions
  the modules define and a short list of builtins (no hash, encoding, regex, time, randomness,
  ``walk`` or ``sprintf``: what a literal sweep cannot see through);
- the literal sweep: when the logic differs from the release's, every invariant but
  ``forgotten_kind_is_redacted`` is asked again with each new string the candidate spells
  (also less the message fragments it holds, and a name of each length a changed rule spells)
  as a purpose (the one place a string reaches the policy as it is: see below).

The release's logic itself compares the subject's name and branch only with a customer's
advisor and branch, which the customers asked about cover (equal, different, missing).

Beneath both, since session 26, no engine is told a name (privacy/stand_ins.py): the subject,
its branch and a customer's advisor and branch reach the policy as ``<subject>``, ``<another
advisor>``, ... So a rule keyed on a name, however spelled or assembled, never fires; what the
two layers still guard is the rest of the request (purposes, which are told as they are, and
the attributes that name nobody) and the shape of the logic.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import PACKAGED_DIR, PolicySet
from privacy.policy_source import Statement, statements, string_literals
from privacy.types import (
    Decision,
    MaskMode,
    PolicyUnavailable,
    Principal,
    Purpose,
    Resource,
    SensitiveKind,
)

__all__ = [
    "INVARIANTS",
    "MAX_SWEEP",
    "SOURCE_CHECK",
    "InvariantResult",
    "run_invariants",
    "run_invariants_sync",
    "source_violations",
]

PREFIX = "invariants."
SOURCE_CHECK = "request_read_as_shipped"
BASE_PURPOSES: tuple[str | None, ...] = (*[str(p) for p in Purpose], None, "unlisted_purpose")
SUBJECT, BRANCH, OTHER = "inv-subject", "inv-branch", "someone-else"
UNKNOWN_KIND = "KIND_NO_POLICY_KNOWS"
SHIPPED_LOGIC = PACKAGED_DIR / "access.rego"
ENTRY = "decisions"
# Strings the sweep tries at most (each costs ~35 evaluations; the child has ~14 s in all).
MAX_SWEEP = 8
# A string with one of these is a message fragment ("no role of "): what a name is quoted in.
_SEPARATOR = re.compile(r"[\s,;:()\[\]]")
MAX_NAME = 256  # longest name swept for a length a rule spells (a token's sub is short)

# What a statement the release does not ship may not name: the request's identity and the
# ways to reach it or to re-evaluate with another one.
_IDENTITY_IDENTS = {"input", ENTRY, "subject", "sub", "branch", "subject_label", "with"}
_IDENTITY_FIELDS = {"id"}
_IDENTITY_STRINGS = {"input", ENTRY, "subject", "sub", "branch", "id"}
# Builtins whose result a literal sweep sees through: equality, prefixes, case, collections.
# Anything else (crypto.*, base64.*, regex.*, sprintf, substring, time.*, rand.*, walk,
# json.marshal, http.send, opa.runtime, ...) could turn the subject into a value no list of
# literals holds, or key a decision on the clock.
ALLOWED_BUILTINS = frozenset(
    {
        "abs", "array.concat", "array.slice", "concat", "contains", "count", "endswith",
        "intersection", "is_array", "is_boolean", "is_null", "is_number", "is_object",
        "is_set", "is_string", "lower", "max", "min", "object.get", "object.keys",
        "object.remove", "object.union", "print", "sort", "startswith", "sum", "trim_space",
        "type_name", "union", "upper",
    }
)  # fmt: skip


@dataclass(frozen=True)
class InvariantResult:
    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Probe:
    """Who the invariants ask as, for which purposes, about which customers."""

    subject: str
    branch: str | None
    purposes: tuple[str | None, ...]
    customers: tuple[Resource, ...]
    roles: tuple[str, ...] = ()
    label: str = ""  # how a failure names this probe ('' for the plain one)


def _customers(advisors: Iterable[str | None], branches: Iterable[str | None]) -> list[Resource]:
    """Customers in and out of every scope the policy language has (managed, branch, consent)."""
    out: list[Resource] = []
    branches = list(branches)
    # Each consent on its own (QA session 26: with the two always equal, a grant to customers
    # who refused marketing but allow data sharing passed every invariant).
    for advisor in advisors:
        for branch in branches:
            for marketing in (True, False):
                for sharing in (True, False):
                    attrs = {
                        "advisorId": advisor,
                        "branchId": branch,
                        "consentMarketing": marketing,
                        "consentDataSharing": sharing,
                    }
                    out.append(Resource("Customer", f"c{len(out)}", attrs))
    return out


POLICY_RESOURCES = (Resource("Policy", "policies"), Resource("Policy", "access"))
SOCIAL = tuple(
    Resource(rtype, f"{rtype}{i}", {"linkedCustomerId": linked})
    for rtype in ("Post", "SocialAccount")
    for i, linked in enumerate(("c0", None))
)

Decide = Callable[[str, str | None, str, list[Resource]], Awaitable[dict[str, Decision]]]


async def _allowed(
    decide: Decide, probe: Probe, role: str, actions: tuple[str, ...], rs: list[Resource]
) -> str:
    """'' when no purpose lets ``role`` do any of ``actions`` on ``rs``; else what it may do."""
    for purpose in probe.purposes:
        for action in actions:
            decided = await decide(role, purpose, action, rs)
            allowed = [r for r in rs if decided[r.id].allow]
            if allowed:
                return f"{role} may {action} {allowed[0].type} for purpose {purpose}{probe.label}"
    return ""


async def privacy_officer_never_writes_customers(decide: Decide, probe: Probe) -> str:
    return await _allowed(decide, probe, "privacy_officer", ("write",), list(probe.customers))


async def auditor_never_changes_policy(decide: Decide, probe: Probe) -> str:
    return await _allowed(decide, probe, "auditor", ("admin", "write"), list(POLICY_RESOURCES))


# What says who is a customer or what a customer holds: a brand analyst reaches none of it
# (QA session 26: a data-only grant of export on DataSubject gave a brand analyst whole
# customer records while this invariant asked about reading and writing Customer only). Asked
# as the hub asks: the types decided on a customer's attributes with them, for the actions the
# hub asks about them; the others without attributes, for every action.
CUSTOMER_TYPES = ("Customer", "LinkCandidate", "CareTask")
OTHER_CUSTOMER_DATA = tuple(Resource(t, t) for t in ("DataSubject", "Campaign", "AuditLog"))
EVERY_ACTION = ("read", "write", "export", "erase", "admin")


async def brand_analyst_never_sees_customers(decide: Decide, probe: Probe) -> str:
    attributed = [
        Resource(rtype, f"{rtype}-{c.id}", c.attributes)
        for rtype in CUSTOMER_TYPES
        for c in probe.customers
    ]
    return await _allowed(
        decide, probe, "brand_analyst", ("read", "write"), attributed
    ) or await _allowed(decide, probe, "brand_analyst", EVERY_ACTION, list(OTHER_CUSTOMER_DATA))


async def brand_analyst_never_sees_customer_links(decide: Decide, probe: Probe) -> str:
    """Posts are public: a brand analyst told which authors are customers learns who banks
    here (QA, session 23)."""
    for purpose in probe.purposes:
        decided = await decide("brand_analyst", purpose, "read", list(SOCIAL))
        for r in SOCIAL:
            d = decided[r.id]
            if d.allow and d.mode_for(SensitiveKind.CUSTOMER_LINK) != MaskMode.REDACT:
                return (
                    f"brand_analyst sees CUSTOMER_LINK on {r.type} for purpose {purpose}"
                    f"{probe.label}"
                )
    return ""


async def forgotten_kind_is_redacted(decide: Decide, probe: Probe) -> str:
    """A kind no mask profile lists is redacted, and every mode given is a known one."""
    known = {str(m) for m in MaskMode}
    for role in probe.roles:
        for purpose in probe.purposes:
            decided = await decide(role, purpose, "read", list(probe.customers))
            for d in decided.values():
                if not d.allow:
                    continue
                if d.mode_for(UNKNOWN_KIND) != MaskMode.REDACT:
                    return f"{role} sees a kind the policy does not list"
                odd = sorted(f"{k}={m}" for k, m in d.masks.items() if m not in known)
                if odd:
                    return f"{role} gets unknown mask modes {', '.join(odd)}"
    return ""


Invariant = Callable[[Decide, Probe], Awaitable[str]]
INVARIANTS: dict[str, Invariant] = {
    "privacy_officer_never_writes_customers": privacy_officer_never_writes_customers,
    "auditor_never_changes_policy": auditor_never_changes_policy,
    "brand_analyst_never_sees_customers": brand_analyst_never_sees_customers,
    "brand_analyst_never_sees_customer_links": brand_analyst_never_sees_customer_links,
    "forgotten_kind_is_redacted": forgotten_kind_is_redacted,
}
# Asked again with every swept string; the forgotten kind over all roles costs too much for it.
SWEPT = tuple(n for n in INVARIANTS if n != "forgotten_kind_is_redacted")


# --- the source check ----------------------------------------------------------------------


@dataclass
class _Logic:
    """The candidate's decision statements measured against the release's."""

    shipped: set[str]
    unshipped: list[tuple[str, Statement]] = field(default_factory=list)
    entries: int = 0


def _logic(policy_set: PolicySet) -> _Logic:
    shipped = statements(SHIPPED_LOGIC.read_text(encoding="utf-8"))
    entry = {s.key for s in shipped if s.head == ENTRY}
    logic = _Logic({s.key for s in shipped})
    for module_id, source in sorted(policy_set.decision_modules.items()):
        for s in statements(source):
            if s.key in entry:
                logic.entries += 1
            if s.key not in logic.shipped:
                logic.unshipped.append((module_id, s))
    return logic


def _defined(policy_set: PolicySet) -> set[str]:
    return {s.head for src in policy_set.decision_modules.values() for s in statements(src)}


def _statement_violation(s: Statement, defined: set[str]) -> str:
    """Why an unshipped statement is refused, '' if it is not."""
    named = sorted(
        (s.idents() & _IDENTITY_IDENTS)
        | {f".{f}" for f in s.fields() & _IDENTITY_FIELDS}
        | {f'"{v}"' for v in set(s.strings()) & _IDENTITY_STRINGS}
    )
    if named:
        return (
            f"reads the request's identity or entry point ({', '.join(named)}) in a way the "
            "release's access.rego does not; rules on the subject, its branch, request ids, "
            "`input`, `decisions` or `with` change only by a release"
        )
    odd = sorted(
        c for c in s.calls() if c not in ALLOWED_BUILTINS and c not in defined
        and not c.startswith("data.")
    )  # fmt: skip
    if odd:
        return (
            f"calls {', '.join(odd)}, which the invariants cannot see through; a changed rule "
            f"may call the modules' own functions and {', '.join(sorted(ALLOWED_BUILTINS))}"
        )
    return ""


def source_violations(policy_set: PolicySet, logic: _Logic | None = None) -> list[str]:
    """Why the candidate's decision logic may read the request otherwise than the release's
    (empty: it does not)."""
    logic = logic or _logic(policy_set)
    out = []
    if logic.entries != 1:
        out.append(
            "the entry point the hub queries must be the release's `decisions := "
            f"decide(input)`, once (the candidate has it {logic.entries} times)"
        )
    defined = _defined(policy_set)
    for module_id, s in logic.unshipped:
        why = _statement_violation(s, defined)
        if why:
            out.append(f"module {module_id}, rule {s.head or '?'}: {why}")
    return out


# --- the literal sweep ---------------------------------------------------------------------


def _data_strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {s for v in value.values() for s in _data_strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _data_strings(v)}
    return {value} if isinstance(value, str) else set()


def _shipped_strings() -> set[str]:
    """Every string the release's logic and data spell (read each time, as the shipped tests)."""
    data = json.loads((PACKAGED_DIR / "data.json").read_text(encoding="utf-8"))
    return set(string_literals(SHIPPED_LOGIC.read_text(encoding="utf-8"))) | _data_strings(data)


def sweep_values(policy_set: PolicySet, logic: _Logic) -> list[str]:
    """Strings the candidate spells that the release does not, and what is left of them once
    the message fragments any string spells are cut out (``"no role of mallory may access
    Customer"`` gives ``mallory``): the subject names a rule comparing with a literal (after
    lower/upper too), a prefix, a suffix or a message quoting the subject could single out."""
    spelled = {v for _, s in logic.unshipped for v in s.strings()}
    spelled |= _data_strings(policy_set.data)
    known = _shipped_strings()
    new = {v for v in spelled if v not in known}
    cutters = {v for v in spelled | known if len(v.strip()) >= 2 and _SEPARATOR.search(v)}
    out = set(new)
    for value in new:
        out |= _pieces(value, [c for c in cutters if c != value and c in value])
    return sorted(out | _lengths(logic))


def _pieces(value: str, cutters: list[str]) -> set[str]:
    """What is left of ``value`` once every cutter is cut out (a message less its fragments)."""
    parts = [value]
    for cutter in sorted(cutters, key=len, reverse=True):
        parts = [p for part in parts for p in part.split(cutter)]
    return {p.strip() for p in parts if p.strip()} - {value}


def _lengths(logic: _Logic) -> set[str]:
    """A name of each length a changed rule spells as a number (``count(v) == 7``): the
    release's rules compare counts with 0 and 1 only."""
    numbers = {t.text for _, s in logic.unshipped for t in s.tokens if t.kind == "number"}
    return {"m" * int(n) for n in numbers if n.isdigit() and 1 < int(n) <= MAX_NAME}


def _probes(policy_set: PolicySet, values: list[str]) -> list[Probe]:
    purposes = (*BASE_PURPOSES, *sorted(policy_set.purposes - set(BASE_PURPOSES)))
    base = Probe(
        SUBJECT,
        BRANCH,
        purposes,
        tuple(_customers((SUBJECT, OTHER, None), (BRANCH, "other-branch", None))),
        tuple(sorted(policy_set.roles)),
    )
    # The engine is told stand-ins for the subject, its branch and customers' advisors and
    # branches (privacy/stand_ins.py): a swept string reaches the policy only as a purpose, so
    # that is all a swept probe asks besides the base's (its name and branch are for the label).
    swept = [
        Probe(
            v,
            v,
            (v,),
            base.customers,
            label=f" (as subject {v!r}, branch {v!r}, purpose {v!r})",
        )
        for v in values
    ]
    return [base, *swept]


# --- running them --------------------------------------------------------------------------


def _decider(engine: EmbeddedEngine, probe: Probe) -> Decide:
    """Decisions through the engine (the hub's query of ``decisions``), as ``probe``'s subject;
    each (role, purpose, action, resources) asked once."""
    seen: dict[tuple[Any, ...], dict[str, Decision]] = {}

    async def decide(
        role: str, purpose: str | None, action: str, rs: list[Resource]
    ) -> dict[str, Decision]:
        key = (role, purpose, action, tuple(r.id for r in rs))
        if key not in seen:
            principal = Principal(probe.subject, (role,), purpose, probe.branch)
            seen[key] = await engine.decide(principal, action, rs)
        return seen[key]

    return decide


async def _check(name: str, engine: EmbeddedEngine, probes: list[Probe]) -> str:
    for probe in probes:
        try:
            broken = await INVARIANTS[name](_decider(engine, probe), probe)
        except PolicyUnavailable as exc:
            broken = f"the policy fails to decide: {exc}"
        if broken:
            return broken
    return ""


def _source_result(policy_set: PolicySet) -> tuple[InvariantResult, list[str]]:
    """The source check's result and the strings to sweep (none unless the logic changed)."""
    logic = _logic(policy_set)
    violations = source_violations(policy_set, logic)
    values = sweep_values(policy_set, logic) if logic.unshipped and not violations else []
    if len(values) > MAX_SWEEP:
        violations.append(
            f"the changed rules and data spell {len(values)} strings the release does not "
            f"({', '.join(map(repr, values[:5]))}, ...); the invariants try each as a subject "
            f"and at most {MAX_SWEEP} fit their time: spell fewer new strings in the changed rules"
        )
    message = "; ".join(violations) or "passed"
    return InvariantResult(PREFIX + SOURCE_CHECK, not violations, message), values


async def run_invariants(policy_set: PolicySet) -> list[InvariantResult]:
    """Each invariant's outcome for ``policy_set``, then the source check's; a set that does
    not compile fails all."""
    source, values = _source_result(policy_set)
    try:
        engine = EmbeddedEngine(policy_set, pool_size=1)
    except PolicyUnavailable as exc:
        return [InvariantResult(PREFIX + n, False, str(exc)) for n in INVARIANTS] + [source]
    probes = _probes(policy_set, values if source.ok else [])
    results = []
    for name in INVARIANTS:
        broken = await _check(name, engine, probes if name in SWEPT else probes[:1])
        results.append(InvariantResult(PREFIX + name, not broken, broken or "passed"))
    return [*results, source]


def run_invariants_sync(policy_set: PolicySet) -> list[InvariantResult]:
    """For the CLI, which has no event loop."""
    return asyncio.run(run_invariants(policy_set))
