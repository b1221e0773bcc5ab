"""Policy engines: embedded regopy (default) or an OPA server (C360_OPA_URL)."""

from __future__ import annotations

from pathlib import Path

from privacy.engines.embedded import EmbeddedEngine
from privacy.engines.opa import OpaServerEngine
from privacy.policy_set import load_policy_set
from shared.settings import Settings

__all__ = ["EmbeddedEngine", "OpaServerEngine", "load_engine"]


def load_engine(
    settings: Settings, data_dir: Path | None = None
) -> EmbeddedEngine | OpaServerEngine:
    """The engine the settings ask for, loaded with packaged + data-dir policies."""
    directory = data_dir if data_dir is not None else settings.resolved_data_dir
    policy_set = load_policy_set(directory)
    timeout = float(settings.policy_timeout_s)
    if settings.opa_url:
        return OpaServerEngine(settings.opa_url, policy_set, timeout)
    return EmbeddedEngine(policy_set, timeout)
