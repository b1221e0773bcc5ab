"""Policy engines: embedded regopy (default) or an OPA server (C360_OPA_URL).

The OPA client (aiohttp, requests) and the settings (pydantic) are imported only when asked
for: a candidate policy's check child (privacy/policy_check.py) imports the embedded engine
through this package for every proposal, and needs neither."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import load_policy_set

if TYPE_CHECKING:
    from privacy.engines.opa import OpaServerEngine
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
        from privacy.engines import opa

        return opa.OpaServerEngine(settings.opa_url, policy_set, timeout)
    return EmbeddedEngine(policy_set, timeout)


def __getattr__(name: str) -> Any:
    """``OpaServerEngine`` on first use (see the module's docstring)."""
    if name == "OpaServerEngine":
        from privacy.engines import opa

        return opa.OpaServerEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
