"""The policy data document (data.json), checked before any engine sees it.

regopy's ``add_data_json`` takes the document as the root of ``data``: anything but a JSON
object there (``[]``, ``"x"``, ``5``) kills the process with a segfault in librego, so does a
number written with an exponent anywhere in it (``1e+20``, ``1e-05``: Python writes floats
out of 1e-4..1e16 that way; measured with regopy 1.5.2), and a
``c360.tables`` of the wrong shape breaks the invariants and the Rego decisions in ways that
say nothing useful. So every data document, from a proposal, putPolicy or a data-dir file, is
parsed and checked here first, and the error names what is wrong and where.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "PolicyDataError", "check_data", "parse_data"]

# Deeper than any sane table; rego-cpp parses data recursively (its stack is the limit).
MAX_DEPTH = 32
TABLES = ("kinds", "mode_rank", "mask_profiles", "resources")
RULE_KEYS = ("actions", "scope", "masks")


class PolicyDataError(ValueError):
    """The data document is not JSON, or not the shape the policies read."""


def parse_data(text: str, where: str = "data.json") -> dict[str, Any]:
    """``text`` as a checked data document; PolicyDataError names ``where`` and the problem."""
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise PolicyDataError(f"{where} is not JSON: {exc}") from exc
    return check_data(data, where)


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; json.dumps would hand them on to regopy as bare words.
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value


def check_data(data: Any, where: str = "data.json") -> dict[str, Any]:
    """``data`` itself when it is a data document the policies can read, else PolicyDataError:
    an object with ``c360.tables`` holding kinds (strings), mode_rank (mode -> integer),
    mask_profiles (profile -> kind -> mode) and resources (type -> role -> purpose -> rule
    {actions, scope, masks}). Other keys are kept (a policy of one's own may read them)."""
    problem = _problem(data)
    if problem:
        raise PolicyDataError(f"{where}: {problem}")
    return data  # type: ignore[no-any-return]  # checked above


def _problem(data: Any) -> str:
    if not isinstance(data, dict):
        return f"the data document must be a JSON object, not {_kind(data)}"
    walked = _walk_problem(data)
    if walked:
        return walked
    c360 = data.get("c360")
    if not isinstance(c360, dict):
        return f"c360 must be an object (it is {_kind(c360)})"
    tables = c360.get("tables")
    if not isinstance(tables, dict):
        return f"c360.tables must be an object (it is {_kind(tables)})"
    missing = [t for t in TABLES if t not in tables]
    if missing:
        return f"c360.tables has no {', '.join(missing)}"
    checks: list[tuple[str, Any, Callable[[Any], bool], str]] = [
        ("kinds", tables["kinds"], _strings, "a list of strings"),
        ("mode_rank", tables["mode_rank"], _ranks, "an object of mode -> integer"),
    ]
    for name, value, ok, expected in checks:
        if not ok(value):
            return f"c360.tables.{name} must be {expected}"
    profiles = tables["mask_profiles"]
    if not isinstance(profiles, dict):
        return "c360.tables.mask_profiles must be an object of profile -> kind -> mode"
    for profile, modes in profiles.items():
        if not isinstance(modes, dict) or not all(isinstance(m, str) for m in modes.values()):
            return f"c360.tables.mask_profiles.{profile} must be an object of kind -> mode"
    return _resources_problem(tables["resources"])


def _resources_problem(resources: Any) -> str:
    path = "c360.tables.resources"
    if not isinstance(resources, dict):
        return f"{path} must be an object of resource type -> role -> purpose -> rule"
    for rtype, roles in resources.items():
        if not isinstance(roles, dict):
            return f"{path}.{rtype} must be an object of role -> purpose -> rule"
        for role, purposes in roles.items():
            if not isinstance(purposes, dict):
                return f"{path}.{rtype}.{role} must be an object of purpose -> rule"
            for purpose, rule in purposes.items():
                where = f"{path}.{rtype}.{role}.{purpose}"
                if not isinstance(rule, dict):
                    return f"{where} must be an object with {', '.join(RULE_KEYS)}"
                if not _strings(rule.get("actions")):
                    return f"{where}.actions must be a list of strings"
                for key in ("scope", "masks"):
                    if not isinstance(rule.get(key), str):
                        return f"{where}.{key} must be a string"
    return ""


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _ranks(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value.values()
    )


def _walk_problem(value: Any) -> str:
    """Too deep a nesting, or a number regopy cannot read; walked without recursion (a hostile
    document must not blow Python's stack either)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"the data document is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, float) and ("e" in repr(item) or not math.isfinite(item)):
            return (
                f"the number {item!r} cannot be given to the policy engine (it reads numbers "
                "only without an exponent: keep floats within 1e-4..1e16, or use a string)"
            )
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return ""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )
