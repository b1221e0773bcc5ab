"""Re-export: the settings moved to ``shared.settings`` (the bottom layer every package may
import); kept so the hub's, tests' and benches' ``hub.settings`` imports keep working."""

# Registers the erasure ledger's upgrade of pre-ledger data dirs (shared.dataformat.UPGRADES):
# every command and the hub import this module before they open a data dir.
import privacy.erasure_upgrade  # noqa: F401
from shared.settings import Settings

__all__ = ["Settings"]
