"""The active Rego modules and data: the packaged privacy/policies plus data-dir overrides.

A file in ``$C360_DATA_DIR/policies/`` with the same name as a packaged one replaces it
(that is where policy administration writes); new files there are added.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from regopy import Interpreter

from privacy.policy_data import PolicyDataError, check_data, parse_data
from shared.change_signal import ChangeSignal

__all__ = [
    "DATA_ID",
    "PACKAGED_DIR",
    "PolicyDataError",
    "PolicySet",
    "load_policy_set",
    "override_dir",
    "package_of",
    "policy_signal",
    "test_names",
]

PACKAGED_DIR = Path(__file__).parent / "policies"
OVERRIDE_SUBDIR = "policies"
# Bumped when a change is activated (privacy/policy_admin.py): beside the overrides, not among
# them (a file there counts as an override at start).
SIGNAL_FILE = "policies.changed"
DATA_ID = "data"  # data.json, addressed as policy id "data" by policy administration
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class PolicySet:
    """Rego sources by id (file stem) and the data document loaded under ``data``.

    The data is checked on construction (privacy.policy_data): a set that exists can be
    handed to regopy, which segfaults on data that is not an object."""

    modules: dict[str, str]
    data: dict[str, Any]

    def __post_init__(self) -> None:
        check_data(self.data)

    @cached_property  # every audited request names it; the set never changes once built
    def revision(self) -> str:
        """SHA-256 over the decision modules (sorted by id) and the canonical data JSON.

        Test modules are left out: editing a test does not change any decision.
        """
        h = hashlib.sha256()
        for module_id in sorted(self.decision_modules):
            h.update(module_id.encode() + b"\0" + self.modules[module_id].encode() + b"\0")
        h.update(canonical_json(self.data))
        return h.hexdigest()

    @property
    def roles(self) -> set[str]:
        """Every role the data's resource tables grant something to (a token's other roles
        get nothing)."""
        resources = self.data.get("c360", {}).get("tables", {}).get("resources", {})
        return {role for rules in resources.values() if isinstance(rules, dict) for role in rules}

    @property
    def purposes(self) -> set[str]:
        """Every purpose the data's resource tables name (``"*"``, any or none, left out)."""
        resources = self.data.get("c360", {}).get("tables", {}).get("resources", {})
        return {
            purpose
            for rules in resources.values()
            if isinstance(rules, dict)
            for by_purpose in rules.values()
            if isinstance(by_purpose, dict)
            for purpose in by_purpose
            if purpose != "*"
        }

    @property
    def decision_modules(self) -> dict[str, str]:
        return {k: v for k, v in self.modules.items() if not is_test_module(k)}

    @property
    def data_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)

    def interpreter(self, modules: Mapping[str, str] | None = None) -> Interpreter:
        """A regopy interpreter holding the data and ``modules`` (default: the decision
        modules). Raises RegoError on a parse error."""
        rego = Interpreter()
        # regopy evaluates nothing sensibly without an input document, even when none is used.
        rego.set_input_term("{}")
        rego.add_data_json(self.data_json)
        for module_id, source in sorted(
            (self.decision_modules if modules is None else modules).items()
        ):
            rego.add_module(module_id, source)
        return rego

    def replace(self, policy_id: str, source: str) -> PolicySet:
        """A copy with one module (or, for id "data", the data document) replaced."""
        if policy_id == DATA_ID:
            return PolicySet(dict(self.modules), parse_data(source))
        return PolicySet({**self.modules, policy_id: source}, self.data)


def is_test_module(module_id: str) -> bool:
    return module_id.endswith("_test")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def package_of(source: str) -> str | None:
    match = _PACKAGE.search(source)
    return match.group(1) if match else None


def test_names(source: str) -> list[str]:
    """Names of the ``test_*`` rules a module defines, in source order, without repeats."""
    return list(dict.fromkeys(_TEST_RULE.findall(source)))


def override_dir(data_dir: Path) -> Path:
    return data_dir / OVERRIDE_SUBDIR


def policy_signal(data_dir: Path) -> ChangeSignal:
    """The signal every process of the data dir reloads its policy on (shared/change_signal)."""
    return ChangeSignal(data_dir / SIGNAL_FILE)


def load_policy_set(data_dir: Path | None = None) -> PolicySet:
    """The packaged policies with any data-dir overrides applied. A data file that is not a
    data document raises PolicyDataError naming the file (what the hub logs at start)."""
    dirs = [PACKAGED_DIR]
    if data_dir is not None and override_dir(data_dir).is_dir():
        dirs.append(override_dir(data_dir))
    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.rego")):
            modules[path.stem] = path.read_text(encoding="utf-8")
        data_path = directory / f"{DATA_ID}.json"
        if data_path.is_file():
            data = parse_data(data_path.read_text(encoding="utf-8"), str(data_path))
    return PolicySet(modules, data)
