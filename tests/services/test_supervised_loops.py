"""Every background loop of every service, run as its service runs it under the supervisor,
starts again after an injected failure (one an unsupervised loop would have died of) and does
its work on the next run: dispatch's settler and a number's sender, ingest's dedupe expiry,
templates' sync and repair, the console's retention, the sandbox's webhook sender and policy's
window timer step."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from services.console import app as console_app
from services.dispatch.backpressure import Backpressure
from services.dispatch.ledger import LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.sender import Senders, queued
from services.ingest import app as ingest_app
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.sandbox.webhook_sender import WebhookSender
from services.templates import app as templates_app
from services.templates import sync
from shared.http import Readiness
from shared.metrics import new_registry
from shared.supervise import Backoff, Supervisor
from tests.services.dispatch.fakes import FakeClock, FakeConsumer
from tests.services.dispatch.test_sender import SETTINGS as SENDER_SETTINGS
from tests.services.dispatch.test_sender import Work
from tests.services.dispatch.test_settler import _parts as settler_parts

FAST = Backoff(base_s=0.01, cap_s=0.02, max_failures=5)


def _supervisor() -> Supervisor:
    return Supervisor("svc", new_registry(), Readiness({"kafka": True}), FAST)


def _failures(supervisor: Supervisor, loop: str) -> float | None:
    return supervisor.registry.get_sample_value(
        "wagate_loop_failures_total", {"service": "svc", "loop": loop}
    )


class Flaky:
    """A call that fails once with `error`, then does `then` (counting calls)."""

    def __init__(self, error: BaseException, then: Callable[..., Awaitable[Any]]) -> None:
        self.error, self.then, self.calls = error, then, 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return await self.then(*args, **kwargs)


async def _until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def _restarted(supervisor: Supervisor, name: str, flaky: Flaky, calls: int = 2) -> None:
    await _until(lambda: flaky.calls >= calls)
    assert _failures(supervisor, name) == 1 and not supervisor.gave_up.is_set()
    await supervisor.close()


async def test_the_settler_restarts_after_a_broker_timeout() -> None:
    parts = settler_parts()
    await parts.intent("stuck", LedgerState.SENDING)
    parts.clock.advance(31)
    settler = parts.settler
    flaky = Flaky(KafkaTimeoutError(), settler.settle_once)
    settler.settle_once = flaky  # type: ignore[method-assign]
    supervisor, stop = _supervisor(), asyncio.Event()
    supervisor.spawn("settler", partial(settler.run, stop))
    await _restarted(supervisor, "settler", flaky)
    assert parts.published.states("stuck") == ["unknown"]  # the next run did the work


async def test_a_crashed_sender_restarts_and_sends_what_waits() -> None:
    work = Work(results={"bug": [ValueError("a bug in an attempt")]})
    metrics = DispatchMetrics(new_registry())
    backpressure = Backpressure(FakeConsumer(), 100, 10, metrics.paused)
    supervisor, clock = _supervisor(), FakeClock()
    senders = Senders(SENDER_SETTINGS, work, backpressure, metrics, clock, supervisor)
    for intent_id in ("bug", "after"):
        row = LedgerRow(intent_id, "pn-1", "1650", LedgerState.QUEUED, None, 0, {})
        work.queue.append(queued(row))
        senders.submit(row, clock.now + timedelta(seconds=0.05 if intent_id == "after" else 0))
    await _until(lambda: work.ids().count("bug") == 2 and "after" in work.ids())
    assert _failures(supervisor, "sender-pn-1") == 1 and work.queue == []
    assert senders.crash() is None and not senders.failed.is_set()
    await senders.close()
    await supervisor.close()


async def test_ingest_dedupe_expiry_restarts_after_a_failure() -> None:
    async def forget(_: float) -> int:
        return 0

    class Seen:
        expire = Flaky(RuntimeError("injected"), forget)

    settings = IngestSettings.model_validate({"dedupe_expiry_interval_s": 0.01})
    supervisor, seen = _supervisor(), Seen()
    loop = partial(ingest_app.expire_forever, seen, settings, IngestMetrics(new_registry()))
    supervisor.spawn("dedupe-expiry", loop)  # type: ignore[arg-type]
    await _restarted(supervisor, "dedupe-expiry", seen.expire)


@pytest.mark.parametrize("step", ["sync_all", "republish_pending"])
async def test_templates_sync_and_repair_restart_after_a_failure(
    step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def nothing(_: object) -> int:
        return 0

    flaky = Flaky(RuntimeError("injected"), nothing)
    monkeypatch.setattr(sync, step, flaky)
    monkeypatch.setattr(sync, "resubmit_unreached", nothing)
    loop = templates_app._sync_every if step == "sync_all" else templates_app._repair_every
    supervisor = _supervisor()
    supervisor.spawn(step, partial(loop, object(), 0.01))  # type: ignore[arg-type]
    await _restarted(supervisor, step, flaky)


async def test_console_retention_restarts_after_a_failure() -> None:
    async def forgot() -> dict[str, int]:
        return {}

    flaky = Flaky(RuntimeError("injected"), forgot)
    supervisor = _supervisor()
    readiness = Readiness({"postgres": True})
    supervisor.spawn("retention", partial(console_app._every, flaky, 0.01, readiness))
    await _restarted(supervisor, "retention", flaky)


async def test_the_sandbox_webhook_sender_restarts_after_a_failure() -> None:
    sender = WebhookSender(None, "http://127.0.0.1:1/", "secret", 0.1)  # type: ignore[arg-type]
    posted: list[object] = []

    async def post(delivery: object) -> None:
        posted.append(delivery)

    flaky = Flaky(RuntimeError("injected"), post)
    sender._post = flaky  # type: ignore[method-assign]
    supervisor = _supervisor()
    supervisor.spawn("webhooks", sender.run)
    sender.enqueue({"entry": [1]})
    sender.enqueue({"entry": [2]})
    await _restarted(supervisor, "webhooks", flaky)
    assert len(posted) == 1  # the second webhook went after the restart


async def test_policys_window_timer_step_survives_a_failure() -> None:
    async def scanned() -> None:
        return None

    flaky = Flaky(RuntimeError("injected"), scanned)
    supervisor = _supervisor()
    await supervisor.step("window-timer", flaky)  # the failing tick is counted
    await supervisor.step("window-timer", flaky)  # the next tick is the retry
    assert flaky.calls == 2 and _failures(supervisor, "window-timer") == 1
    assert supervisor.health("window-timer").failures == 0 and supervisor.readiness.ready
