"""The chaos runs use the wired system of the end-to-end tests (`tests.e2e.conftest`)."""

from tests.e2e.conftest import system, system_env

__all__ = ["system", "system_env"]
