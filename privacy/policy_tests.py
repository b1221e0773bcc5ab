"""Run the ``test_*`` rules of the ``*_test`` modules through regopy, one query per test.

The shipped tests (the repository's ``privacy/policies/*_test.rego``) always run, as shipped,
against a candidate's decision modules, in an interpreter of their own: a policy change can
add tests and replace a test module, but not drop, edit or satisfy a shipped one (a
replacement ``access_test`` or a module merging rules into a shipped test's package does not
reach them). Changing behaviour a shipped test pins is a release (the test edited in the
repository and reviewed there), never a runtime proposal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from regopy import Interpreter, Output, RegoError

from privacy.policy_set import (
    PACKAGED_DIR,
    PolicySet,
    is_test_module,
    package_of,
    test_names,
)

__all__ = ["PROPOSED", "PolicyTestResult", "run_policy_tests", "shipped_tests"]

# A test module that replaces a shipped one: its own tests are labelled apart from the shipped.
PROPOSED = "proposed."


@dataclass(frozen=True)
class PolicyTestResult:
    name: str  # "<module>.<rule>"
    ok: bool
    message: str


def shipped_tests() -> dict[str, str]:
    """The repository's test modules by id (read each time: what this release ships)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PACKAGED_DIR.glob("*_test.rego"))}


def run_policy_tests(policy_set: PolicySet) -> list[PolicyTestResult]:
    """Every test's outcome: the shipped tests against the set's decision modules, then the
    set's own test modules that are not the shipped ones (new, or replacing one: labelled
    ``proposed.<module>``). A module that does not compile fails its run's tests."""
    shipped = shipped_tests()
    results = _run_modules(
        policy_set.decision_modules, policy_set, shipped, {m: m for m in shipped}
    )
    results += _shipped_package_taken(policy_set, shipped)
    results += _dropped(policy_set, shipped)
    own = {
        m: src
        for m, src in policy_set.modules.items()
        if is_test_module(m) and shipped.get(m) != src
    }
    if own:
        labels = {m: f"{PROPOSED}{m}" if m in shipped else m for m in own}
        results += _run_modules(policy_set.modules, policy_set, own, labels)
    return results


def _dropped(policy_set: PolicySet, shipped: dict[str, str]) -> list[PolicyTestResult]:
    """A replacement of a shipped test module that leaves a shipped test out fails, so what
    the officers read in the proposal is never less than what runs."""
    out = []
    for module_id, source in sorted(shipped.items()):
        replaced = policy_set.modules.get(module_id, source)
        kept = set(test_names(replaced))
        out += [
            PolicyTestResult(
                f"{PROPOSED}{module_id}.{name}",
                False,
                f"drops the shipped test {module_id}.{name}: shipped tests cannot be removed "
                "(they run as shipped on every change); keep it and add tests under new names",
            )
            for name in test_names(source)
            if name not in kept
        ]
    return out


def _shipped_package_taken(
    policy_set: PolicySet, shipped: dict[str, str]
) -> list[PolicyTestResult]:
    """A decision module declaring a shipped test's package could add bodies to its test rules
    (Rego merges a package's modules: ``test_x if { true }`` makes any test_x true)."""
    packages = {package_of(src) or "": m for m, src in shipped.items()}
    packages.pop("", None)
    out = []
    for module_id, source in sorted(policy_set.decision_modules.items()):
        declared = package_of(source) or ""
        for package, test_module in packages.items():
            if declared == package or declared.startswith(f"{package}."):
                out.append(
                    PolicyTestResult(
                        f"{test_module}.package",
                        False,
                        f"module {module_id} declares package {declared}, which belongs to the "
                        f"shipped tests ({test_module}); use a package of its own",
                    )
                )
    return out


def _run_modules(
    loaded: dict[str, str],
    policy_set: PolicySet,
    tests: dict[str, str],
    labels: dict[str, str],
) -> list[PolicyTestResult]:
    """Run ``tests``' test rules in one interpreter holding the data, ``loaded`` and ``tests``
    (a test module in ``loaded`` with a test's id is left out: ``tests`` wins)."""
    todo = [
        (labels[module_id], package_of(source), name)
        for module_id, source in sorted(tests.items())
        for name in test_names(source)
    ]
    try:
        rego = policy_set.interpreter({**loaded, **tests})
        # Compile errors surface on the first query; a trivial one makes them show here.
        query(rego, "x = data.c360")
    except RegoError as exc:
        message = f"policies do not compile: {_first_line(exc)}"
        return [PolicyTestResult(f"{m}.{n}", False, message) for m, _, n in todo] or [
            PolicyTestResult("compile", False, message)
        ]
    return [_run_one(rego, label, package, name) for label, package, name in todo]


def _run_one(rego: Interpreter, module_id: str, package: str | None, name: str) -> PolicyTestResult:
    label = f"{module_id}.{name}"
    if package is None:
        return PolicyTestResult(label, False, "module has no package line")
    try:
        output = query(rego, f"x = data.{package}.{name}")
    except RegoError as exc:
        return PolicyTestResult(label, False, f"error: {_first_line(exc)}")
    bindings = output.results[0].bindings if output.results else {}
    if not output.ok():
        return PolicyTestResult(label, False, f"error: {output}")
    if bindings.get("x") is True:
        return PolicyTestResult(label, True, "passed")
    return PolicyTestResult(label, False, "failed (a condition was false or undefined)")


def query(rego: Interpreter, text: str) -> Output:
    """``rego.query``, with a RegoError for an error regopy reports as ok: some compile errors
    (a call to a function no module defines, as when a proposal empties the access module)
    come back as an error tree its Output then fails to parse as JSON."""
    try:
        return rego.query(text)
    except json.JSONDecodeError as exc:
        raise RegoError(exc.doc) from exc


_ERRMSG = re.compile(r"errormsg \d+:([^)\n]*)")


def _first_line(exc: Exception) -> str:
    """The first error message of a rego-cpp error tree, else the text's first line."""
    text = str(exc).strip()
    match = _ERRMSG.search(text)
    if match:
        return match.group(1).strip()
    return text.splitlines()[0] if text else type(exc).__name__
