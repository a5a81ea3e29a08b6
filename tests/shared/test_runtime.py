"""The lifecycle of a service process: a broker or database not there yet is waited for with a
back-off and a log line naming it (SIGTERM meanwhile exits 0); a SIGTERM gives the service a
bounded drain; a start-up failure that is no dependency's absence exits 69."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time

import pytest
from aiokafka.errors import KafkaConnectionError
from structlog.testing import capture_logs

from shared import runtime
from shared.db import DatabaseUnavailable
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


async def test_a_dependency_not_there_yet_is_waited_for_with_a_growing_pause() -> None:
    failures = [KafkaConnectionError("refused"), StartupError("PostgreSQL is unreachable"),
                ConnectionRefusedError(), DatabaseUnavailable("down")]  # fmt: skip
    tried: list[float] = []

    async def attempt() -> str:
        tried.append(time.monotonic())
        if failures:
            raise failures.pop(0)
        return "connected"

    with capture_logs() as logs:
        assert await runtime.waiting("Kafka", attempt, asyncio.Event(), cap_s=1.0) == "connected"
    waits = [b - a for a, b in itertools.pairwise(tried)]
    assert len(waits) == 4 and waits[0] >= 0.45 and waits[-1] >= 0.95  # doubling, then capped
    said = [e for e in logs if e["event"] == "waiting for Kafka"]
    assert [e["tries"] for e in said] == [1, 2, 3, 4]
    assert any(e["event"] == "Kafka reached" for e in logs)


async def test_sigterm_while_waiting_stops_the_wait() -> None:
    stop = asyncio.Event()

    async def never() -> None:
        raise KafkaConnectionError("refused")

    asyncio.get_running_loop().call_later(0.3, stop.set)
    started = time.monotonic()
    with pytest.raises(runtime.Stopped):
        await runtime.waiting("Kafka", never, stop)
    assert time.monotonic() - started < 2


async def test_a_failure_that_is_no_absence_is_not_waited_for() -> None:
    async def broken() -> None:
        raise ValueError("bad configuration")

    with pytest.raises(ValueError):
        await runtime.waiting("Kafka", broken, asyncio.Event())


def test_a_sigterm_before_the_dependencies_came_exits_0() -> None:
    async def main(stop: asyncio.Event) -> None:
        async def never() -> None:
            raise KafkaConnectionError("refused")

        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)
        await runtime.waiting("Kafka", never, stop)

    runtime.serve("svc", main)  # returns: no SystemExit


def test_the_drain_finishes_what_is_in_flight_within_its_bound() -> None:
    finished: list[str] = []

    async def main(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
        await stop.wait()
        await asyncio.sleep(0.3)  # the work in flight when SIGTERM came
        finished.append("committed")

    runtime.serve("svc", main, drain_s=5)
    assert finished == ["committed"]


def test_a_drain_past_its_bound_is_cancelled_and_still_exits_0() -> None:
    cancelled: list[float] = []

    async def main(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
        await stop.wait()
        try:
            await asyncio.sleep(60)  # a drain that would never end
        except asyncio.CancelledError:
            cancelled.append(time.monotonic())
            raise

    started = time.monotonic()
    with capture_logs() as logs:
        runtime.serve("svc", main, drain_s=0.5)
    assert cancelled and 0.5 <= cancelled[0] - started < 3
    assert any(e["event"].startswith("drain took too long") for e in logs)


def test_a_crash_during_the_drain_still_exits_non_zero() -> None:
    async def main(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
        await stop.wait()
        raise StartupError("PostgreSQL is unreachable: gone")

    with pytest.raises(SystemExit) as exited:
        runtime.serve("svc", main, drain_s=5)
    assert exited.value.code == runtime.EXIT_UNAVAILABLE


@pytest.mark.parametrize(
    ("value", "loop"),
    [(None, "asyncio"), ("asyncio", "asyncio"), ("", "asyncio"), ("uvloop", "uvloop"),
     (" UVLoop ", "uvloop"), ("trio", ValueError)],
)  # fmt: skip
def test_the_event_loop_is_asyncios_unless_uvloop_is_named(
    value: str | None, loop: str | type[Exception]
) -> None:
    environ = {} if value is None else {runtime.EVENT_LOOP: value}
    if not isinstance(loop, str):
        with pytest.raises(loop, match=runtime.EVENT_LOOP):
            runtime.loop_factory(environ)
        return
    factory = runtime.loop_factory(environ)
    made = (factory or asyncio.new_event_loop)()
    try:
        assert type(made).__module__.split(".")[0] == loop
    finally:
        made.close()


def test_a_service_runs_on_the_loop_named_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran_on: list[str] = []

    async def main(_: asyncio.Event) -> None:
        ran_on.append(type(asyncio.get_running_loop()).__module__.split(".")[0])

    for choice in ("uvloop", "asyncio"):
        monkeypatch.setenv(runtime.EVENT_LOOP, choice)
        runtime.serve("svc", main)
    assert ran_on == ["uvloop", "asyncio"]
    monkeypatch.setenv(runtime.EVENT_LOOP, "gevent")
    with pytest.raises(SystemExit) as exited:
        runtime.serve("svc", main)
    assert exited.value.code == runtime.EXIT_CONFIG and ran_on == ["uvloop", "asyncio"]
