"""Policy administration and the `c360 policy` / `c360 audit` commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from privacy.engines import EmbeddedEngine
from privacy.keyring import KeyRing
from privacy.policy_admin import FourEyesViolation, PolicyAdmin, UnknownPreviewName
from privacy.policy_invariants import INVARIANTS
from privacy.policy_set import PACKAGED_DIR, PolicySet, load_policy_set
from privacy.types import Principal, Resource


async def test_put_policy_activates_only_when_tests_pass(data_dir: Path) -> None:
    engine = EmbeddedEngine(load_policy_set(data_dir))
    with pytest.raises(FourEyesViolation, match="two-person rule"):
        await PolicyAdmin(engine, data_dir).put_policy("data", "{}")
    # Generous: two checks in children take seconds each on a loaded machine (20 s was hit).
    admin = PolicyAdmin(engine, data_dir, two_person=False, test_timeout_s=120)
    assert {p.id for p in admin.policies()} >= {"access", "access_test", "data"}
    source = next(p.source for p in admin.policies() if p.id == "access")

    broken = source.replace("ctx.action in rule.actions", "true")  # lets privacy officers write
    report = await admin.put_policy("access", broken)
    assert not report.passed and not report.activated
    assert any(name.endswith("test_privacy_officer_read_only") and not ok
               for name, ok, _ in report.results)  # fmt: skip
    assert engine.revision == report.old_revision
    assert not (data_dir / "policies" / "access.rego").exists()

    data = json.loads(next(p.source for p in admin.policies() if p.id == "data"))
    data["c360"]["tables"]["mask_profiles"]["service"]["EMAIL"] = "hash"
    report = await admin.put_policy("data", json.dumps(data))
    assert report.passed and report.activated and report.new_revision != report.old_revision
    assert engine.revision == report.new_revision
    assert load_policy_set(data_dir).revision == report.new_revision  # persisted override
    got = await engine.decide(Principal("s", ("service_agent",), "service"), "read",
                              [Resource("Customer", "c1", {"advisorId": "x"})])  # fmt: skip
    assert got["c1"].masks["EMAIL"] == "hash"


async def test_preview_access(data_dir: Path) -> None:
    admin = PolicyAdmin(EmbeddedEngine(load_policy_set(data_dir)), data_dir)
    seen = await admin.preview_access("marketing_analyst", "marketing", {"consentMarketing": True})
    assert seen.allow and seen.mode_for("NATIONAL_ID") == "redact"
    assert seen.mode_for("EMAIL") == "hash"
    denied = await admin.preview_access(
        "marketing_analyst", "marketing", {"consentMarketing": False}
    )
    assert not denied.allow and denied.mode_for("NAME") == "redact"
    assert "consented" in denied.reason


async def test_preview_purposes_are_the_requests_and_the_tables(data_dir: Path) -> None:
    """A purpose the policy's tables name is previewable though no request header offers it
    (a token's claim can carry it); one neither knows is refused, naming the field."""
    data = load_policy_set(data_dir).data
    data["c360"]["tables"]["resources"]["Customer"]["auditor"]["research"] = {
        "actions": ["read"], "scope": "any", "masks": "marketing"
    }  # fmt: skip
    policy = PolicySet(load_policy_set(data_dir).modules, data)
    admin = PolicyAdmin(EmbeddedEngine(policy), data_dir)
    seen = await admin.preview_access("auditor", "research", {})
    assert seen.allow and seen.mode_for("NATIONAL_ID") == "redact"
    assert (await admin.preview_access("auditor", "risk", {})).allow is False
    known = r"'teaching'; use one of compliance, marketing, research, risk, service"
    with pytest.raises(UnknownPreviewName, match=known) as e:
        await admin.preview_access("auditor", "teaching", {})
    assert e.value.field == "purpose"


def test_cli_policy_test_and_audit(data_dir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(data_dir)}
    result = runner.invoke(app, ["policy", "test"], env=env)
    assert result.exit_code == 0, result.output
    # Every test rule of the packaged policies (other issues add their own),
    # then the invariants no policy change can remove.
    packaged = Path(__file__).parents[2] / "privacy" / "policies"
    rules = sum(
        len(re.findall(r"^test_\w+ if", f.read_text(encoding="utf-8"), re.M))
        for f in packaged.glob("*_test.rego")
    )
    # The invariants, then the check of how the logic reads who asks (SOURCE_CHECK).
    checks = len(INVARIANTS) + 1
    assert rules >= 12 and f"{rules + checks} passed, 0 failed" in result.output
    result = runner.invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 2 and "no audit key ring" in result.output
    assert not (data_dir / "keys").exists()  # verify never creates keys
    KeyRing.load(data_dir)  # what the hub does on its first start
    result = runner.invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 0 and "OK 0 records" in result.output
    (data_dir / "audit").mkdir()
    (data_dir / "audit" / "audit.log").write_text("garbage\n")
    result = runner.invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 1 and "seq 1" in result.output
    override = data_dir / "policies"
    override.mkdir()
    (override / "extra_test.rego").write_text(
        "package c360.extra_test\n\ntest_fails if {\n\t1 == 2\n}\n"
    )
    result = runner.invoke(app, ["policy", "test"], env=env)
    assert result.exit_code == 1 and "FAIL extra_test.test_fails" in result.output


TRIVIAL_TEST = "package c360.access_test\n\ntest_always if {\n\ttrue\n}\n"


def _leaky_data(admin: PolicyAdmin) -> str:
    """data.json revealing national ids to marketing: what test_marketing_needs_consent pins
    (no invariant covers it)."""
    data = json.loads(next(p.source for p in admin.policies() if p.id == "data"))
    data["c360"]["tables"]["mask_profiles"]["marketing"]["NATIONAL_ID"] = "reveal"
    return json.dumps(data)


def _failed(results: list[tuple[str, bool, str]]) -> dict[str, str]:
    return {name: message for name, ok, message in results if not ok}


async def test_a_proposal_dropping_a_shipped_test_fails(data_dir: Path) -> None:
    admin = PolicyAdmin(EmbeddedEngine(load_policy_set(data_dir)), data_dir)
    # Replacing access_test with one always-true test: it drops every shipped test, so failed.
    swap = await admin.propose("access_test", TRIVIAL_TEST, "po1")
    assert swap.status == "failed" and not swap.passed
    dropped = _failed(swap.results)
    assert (
        "drops the shipped test access_test.test_privacy_officer_read_only"
        in dropped["proposed.access_test.test_privacy_officer_read_only"]
    )
    assert ("proposed.access_test.test_always", True, "passed") in swap.results


def _swapped(data_dir: Path) -> None:
    """An access_test keeping every shipped test's name with an always-true body, active
    (approved before this release, or written by hand)."""
    shipped = (PACKAGED_DIR / "access_test.rego").read_text(encoding="utf-8")
    names = re.findall(r"^(test_\w+) if", shipped, re.M)
    trivial = "".join(f"\n{n} if {{\n\ttrue\n}}\n" for n in names)
    (data_dir / "policies").mkdir(exist_ok=True)
    (data_dir / "policies" / "access_test.rego").write_text(
        "package c360.access_test\n" + trivial, encoding="utf-8"
    )


async def test_a_loosening_fails_the_shipped_test_a_swapped_access_test_left_out(
    data_dir: Path,
) -> None:
    # access_test's tests made always true, then a change loosening what a shipped test pins:
    # that shipped test still runs, fails, and is named.
    _swapped(data_dir)
    admin = PolicyAdmin(EmbeddedEngine(load_policy_set(data_dir)), data_dir)
    leaky = await admin.propose("data", _leaky_data(admin), "po1")
    assert leaky.status == "failed" and not leaky.passed
    failed = _failed(leaky.results)
    assert list(failed) == ["access_test.test_marketing_needs_consent"]  # no invariant covers it
    assert "failed" in failed["access_test.test_marketing_needs_consent"]
    assert ("proposed.access_test.test_marketing_needs_consent", True, "passed") in leaky.results


async def test_a_module_cannot_join_a_shipped_test_package(data_dir: Path) -> None:
    # A decision module merging an always-true body into the shipped test's package (Rego
    # ORs the bodies), with the leak it would hide already active.
    _swapped(data_dir)
    admin = PolicyAdmin(EmbeddedEngine(load_policy_set(data_dir)), data_dir)
    (data_dir / "policies" / "data.json").write_text(_leaky_data(admin), encoding="utf-8")
    admin = PolicyAdmin(EmbeddedEngine(load_policy_set(data_dir)), data_dir)
    sneak = "package c360.access_test\n\ntest_marketing_needs_consent if {\n\ttrue\n}\n"
    merged = await admin.propose("helpers", sneak, "po1")
    assert merged.status == "failed"
    failed = _failed(merged.results)
    assert list(failed) == ["access_test.package"]
    assert "declares package c360.access_test" in failed["access_test.package"]
