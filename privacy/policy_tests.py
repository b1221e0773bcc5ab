"""Run the ``test_*`` rules of the ``*_test`` modules through regopy, one query per test."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from regopy import Interpreter, Output, RegoError

from privacy.policy_set import PolicySet, is_test_module, package_of, test_names

__all__ = ["PolicyTestResult", "run_policy_tests"]


@dataclass(frozen=True)
class PolicyTestResult:
    name: str  # "<module>.<rule>"
    ok: bool
    message: str


def run_policy_tests(policy_set: PolicySet) -> list[PolicyTestResult]:
    """Every test's outcome; a module that does not compile fails all of them with the error."""
    tests = [
        (module_id, package_of(source), name)
        for module_id, source in sorted(policy_set.modules.items())
        if is_test_module(module_id)
        for name in test_names(source)
    ]
    try:
        rego = policy_set.interpreter(with_tests=True)
        # Compile errors surface on the first query; a trivial one makes them show here.
        query(rego, "x = data.c360")
    except RegoError as exc:
        message = f"policies do not compile: {_first_line(exc)}"
        return [PolicyTestResult(f"{m}.{n}", False, message) for m, _, n in tests] or [
            PolicyTestResult("compile", False, message)
        ]
    results = []
    for module_id, package, name in tests:
        results.append(_run_one(rego, module_id, package, name))
    return results


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
