"""A service that cannot reach a dependency at start says so once and exits 69."""

from __future__ import annotations

import asyncio

import pytest

from shared import runtime
from shared.errors import StartupError


def test_an_unreachable_dependency_exits_unavailable() -> None:
    async def main(_: asyncio.Event) -> None:
        raise StartupError("PostgreSQL is unreachable: refused")

    with pytest.raises(SystemExit) as exited:
        runtime.serve("svc", main)
    assert exited.value.code == runtime.EXIT_UNAVAILABLE


def test_exit_unavailable_is_the_one_way_out() -> None:
    with pytest.raises(SystemExit) as exited:
        runtime.exit_unavailable("svc", TimeoutError("slow"), "Kafka is unreachable")
    assert exited.value.code == 69
