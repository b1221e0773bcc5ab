# The social tests' CLI environment (the session graph's data dir, fresh checkpoints).
from tests.social.conftest import cli_env

__all__ = ["cli_env"]
