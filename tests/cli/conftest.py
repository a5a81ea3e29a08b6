"""The servers the commands talk to, as the services' own tests stand them up: the sandbox over
real HTTP (`make_stack`) and the templates API on a real PostgreSQL (`service`)."""

from __future__ import annotations

from tests.services.sandbox.conftest import make_stack
from tests.services.templates.conftest import service

__all__ = ["make_stack", "service"]
