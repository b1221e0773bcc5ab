"""docker-compose.yml and the Dockerfile carry what the hub needs (no Docker engine here:
the files are parsed and checked, not run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return compose["services"]


@pytest.fixture(scope="module")
def stages() -> list[list[str]]:
    """The Dockerfile's instructions per stage (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    out: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


def test_neo4j_is_community_5_with_auth_volumes_and_a_healthcheck(services: dict) -> None:
    neo4j = services["neo4j"]
    assert neo4j["image"] in ("neo4j:5", "neo4j:5-community")
    assert neo4j["environment"]["NEO4J_AUTH"].startswith("neo4j/${NEO4J_PASSWORD")
    mounts = {v.split(":")[1] for v in neo4j["volumes"]}
    assert {"/data", "/logs"} <= mounts
    assert "cypher-shell" in " ".join(neo4j["healthcheck"]["test"])


def test_opa_serves_the_repo_policies_read_only_with_decision_logs(services: dict) -> None:
    opa = services["opa"]
    assert opa["image"].startswith("openpolicyagent/opa")
    command = opa["command"]
    assert command[:2] == ["run", "--server"]
    assert ":8181" in command
    assert "decision_logs.console=true" in command
    assert command[-1] == "/policies"
    assert "./privacy/policies:/policies:ro" in opa["volumes"]
    assert (ROOT / "privacy" / "policies").is_dir()
    assert "/health" in " ".join(opa["healthcheck"]["test"])


def test_hub_is_built_here_and_waits_for_healthy_neo4j_and_opa(services: dict) -> None:
    hub = services["hub"]
    assert hub["build"] == "."
    assert hub["depends_on"] == {
        "neo4j": {"condition": "service_healthy"},
        "opa": {"condition": "service_healthy"},
    }
    env = hub["environment"]
    assert env["C360_GRAPH_URL"] == "neo4j://neo4j:7687"
    assert env["C360_OPA_URL"] == "http://opa:8181"
    assert env["C360_HOST"] == "0.0.0.0"
    assert env["C360_DATA_DIR"] == "/data"
    assert env["C360_GRAPH_PASSWORD"] == "${NEO4J_PASSWORD:-c360-local-only}"
    assert "8000:8000" in hub["ports"]
    assert any(v.startswith("hub-data:") and v.endswith(":/data") for v in hub["volumes"])
    assert "/healthz" in " ".join(hub["healthcheck"]["test"])


def test_every_hub_variable_is_a_setting_the_hub_reads(services: dict) -> None:
    known = {f"C360_{name.upper()}" for name in Settings.model_fields}
    assert set(services["hub"]["environment"]) <= known


def test_named_volumes_are_declared() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert {"neo4j-data", "neo4j-logs", "hub-data"} <= set(compose["volumes"])


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck(
    stages: list[list[str]],
) -> None:
    assert len(stages) >= 2
    builder, final = stages[0], stages[-1]
    assert any("pip wheel" in line for line in builder)
    assert re.match(r"FROM python:3\.\d+-slim$", final[0])
    final_text = "\n".join(final)
    for tool in ("build-essential", "gcc", "g++", "make ", "-dev"):
        assert tool not in final_text, tool
    assert "--from=builder /wheels" in final_text
    assert "--no-index" in final_text
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    healthchecks = [line for line in final if line.startswith("HEALTHCHECK")]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]
    assert 'ENTRYPOINT ["c360"]' in final_text and 'CMD ["serve"]' in final_text


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".c360", ".git"} <= set(ignored)
