"""Re-export: the settings moved to ``shared.settings`` (the bottom layer every package may
import); kept so the hub's, tests' and benches' ``hub.settings`` imports keep working."""

from shared.settings import Settings

__all__ = ["Settings"]
