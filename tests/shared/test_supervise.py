"""The supervisor of background loops: a failure is counted and the loop started again after
a back-off; failures in a row past the limit make the service not ready and stop it with a
non-zero exit; a healthy run forgives; /readyz follows what the probes reach at run time."""

from __future__ import annotations

import asyncio

import pytest

from shared import runtime
from shared.http import Readiness
from shared.metrics import new_registry
from shared.supervise import Backoff, Health, LoopsGaveUp, Supervisor, watch_reach

FAST = Backoff(base_s=0.01, cap_s=0.02, max_failures=3, healthy_s=10.0)


def _supervisor(backoff: Backoff = FAST) -> Supervisor:
    return Supervisor("svc", new_registry(), Readiness({"kafka": True}), backoff)


def _failures(supervisor: Supervisor, loop: str) -> float | None:
    return supervisor.registry.get_sample_value(
        "wagate_loop_failures_total", {"service": "svc", "loop": loop}
    )


async def test_a_failed_loop_is_counted_and_started_again() -> None:
    supervisor = _supervisor()
    runs: list[int] = []

    async def loop() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError("injected")

    await asyncio.wait_for(supervisor.spawn("job", loop), 5)
    assert runs == [0, 1, 2] and _failures(supervisor, "job") == 2
    assert not supervisor.gave_up.is_set() and supervisor.readiness.ready
    supervisor.check()  # nothing gave up: no error


async def test_failures_in_a_row_make_the_service_not_ready_and_stop_it() -> None:
    supervisor = _supervisor()

    async def loop() -> None:
        raise ConnectionError("always")

    await asyncio.wait_for(supervisor.spawn("job", loop), 5)
    assert supervisor.gave_up.is_set() and _failures(supervisor, "job") == 3
    assert supervisor.readiness.checks["loop:job"] is False and not supervisor.readiness.ready
    with pytest.raises(LoopsGaveUp, match="job failed 3 times in a row"):
        supervisor.check()


@pytest.mark.parametrize(
    ("runs_s", "gives_up"),
    [
        ((0.0, 0.0, 0.0), True),
        ((0.0, 0.0, 10.0), False),  # a healthy run starts the count again
        ((0.0, 10.0, 0.0), False),
        ((0.0, 10.0, 0.0, 0.0), True),
        ((10.0, 0.0, 0.0), True),
    ],
)
def test_a_healthy_run_resets_the_failures_in_a_row(
    runs_s: tuple[float, ...], gives_up: bool
) -> None:
    health = Health("job", FAST)
    assert [health.failed(s) for s in runs_s][-1] is gives_up


@pytest.mark.parametrize(("failures", "wait"), [(1, 0.5), (2, 1.0), (3, 2.0), (7, 30.0)])
def test_the_back_off_doubles_up_to_its_cap(failures: int, wait: float) -> None:
    assert Backoff(base_s=0.5, cap_s=30.0).wait_s(failures) == wait


async def test_a_timer_step_counts_failures_and_a_success_resets_them() -> None:
    supervisor = _supervisor()
    calls: list[str] = []

    async def failing() -> None:
        calls.append("x")
        raise RuntimeError("injected")

    async def working() -> None:
        calls.append("ok")

    await supervisor.step("timer", failing)
    await supervisor.step("timer", failing)
    await supervisor.step("timer", working)
    await supervisor.step("timer", failing)
    await supervisor.step("timer", failing)
    assert not supervisor.gave_up.is_set() and _failures(supervisor, "timer") == 4
    await supervisor.step("timer", failing)
    assert supervisor.gave_up.is_set() and calls == ["x", "x", "ok", "x", "x", "x"]


async def test_readiness_follows_what_the_probes_reach_at_run_time() -> None:
    readiness = Readiness({"kafka": True, "postgres": True})
    kafka_up = asyncio.Event()
    kafka_up.set()

    async def kafka() -> None:
        if not kafka_up.is_set():
            raise ConnectionError("broker gone")

    async def postgres() -> None:
        await asyncio.sleep(10)  # hangs: out of reach too

    watching = asyncio.create_task(
        watch_reach(readiness, {"kafka": kafka, "postgres": postgres}, 0.01, 0.05)
    )
    try:
        await _until(lambda: readiness.checks["postgres"] is False)
        assert readiness.checks["kafka"] is True
        kafka_up.clear()
        await _until(lambda: readiness.checks["kafka"] is False)
        kafka_up.set()
        await _until(lambda: readiness.checks["kafka"] is True)
    finally:
        watching.cancel()


def test_a_service_whose_loop_gave_up_exits_non_zero() -> None:
    async def main(_: asyncio.Event) -> None:
        raise LoopsGaveUp("svc: job failed 8 times in a row")

    with pytest.raises(SystemExit) as exited:
        runtime.serve("svc", main)
    assert exited.value.code == runtime.EXIT_SOFTWARE


async def _until(check: object, timeout_s: float = 5.0) -> None:
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)
