"""Dispatch as `app.build` wires it, driven two ways: the rig, over the real ledger on a fresh
PostgreSQL and a local fake Cloud API, and the shell, over fakes only (the ledger in memory, a
scripted Cloud API client); both with a publisher that records what would go to Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from services.dispatch.app import MIGRATIONS, Dispatch, build
from services.dispatch.cloudapi import CloudApi
from services.dispatch.handback import HandBack
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.store import PostgresLedger
from services.dispatch.transitions import Transitions
from shared import codec, db
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.webhooks import MessageStatusReported
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.settings import PostgresSettings
from tests.conftest import SEALING_KEY, free_port
from tests.services.dispatch.fake_cloudapi import FakeCloudApi
from tests.services.dispatch.fakes import (
    FakeClock,
    FakeConsumer,
    InMemoryLedger,
    RecordingPublisher,
    ScriptedApi,
)


class Driving:
    """What a test does to dispatch and reads back from what it published."""

    dispatch: Dispatch
    published: RecordingPublisher

    @property
    def senders(self) -> Senders:
        return self.dispatch.senders

    @property
    def settler(self) -> Settler:
        return self.dispatch.settler

    async def decide(self, decision: PolicyDecisionMade, partition: int = 0) -> None:
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "decisions", partition, 0, 0, 0, None, b"", None, 0, 0, ()
        )
        await self.dispatch.decisions.on_decision(decision, record)

    async def status(self, status: MessageStatusReported) -> None:
        await self.dispatch.statuses.on_status(status, None)

    async def wait_for(self, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.01)

    def states(self, intent_id: str) -> list[str]:
        return self.published.states(intent_id)


@dataclass
class Rig(Driving):
    ledger: PostgresLedger
    api: FakeCloudApi
    published: RecordingPublisher
    dispatch: Dispatch
    consumer: FakeConsumer
    settings: DispatchSettings


@dataclass
class Shell(Driving):
    ledger: InMemoryLedger
    api: ScriptedApi
    published: RecordingPublisher
    dispatch: Dispatch
    consumer: FakeConsumer
    settings: DispatchSettings
    clock: FakeClock


@dataclass
class Reporting:
    """The ground floor of a unit test: the ledger in memory on a clock the test moves, and
    what reports through it to a recording publisher."""

    clock: FakeClock
    ledger: InMemoryLedger
    published: RecordingPublisher
    registry: CollectorRegistry
    metrics: DispatchMetrics
    reporter: Reporter
    transitions: Transitions
    handback: HandBack

    @classmethod
    def make(
        cls, ledger: InMemoryLedger | None = None, published: RecordingPublisher | None = None
    ) -> Reporting:
        clock = FakeClock()
        ledger = ledger or InMemoryLedger(clock)
        published, registry = published or RecordingPublisher(), new_registry()
        metrics = DispatchMetrics(registry)
        reporter = Reporter(ledger, published, metrics, "g")
        transitions = Transitions(ledger, reporter)
        handback = HandBack(ledger, transitions, published, SEALER, 3, clock)
        return cls(clock, ledger, published, registry, metrics, reporter, transitions, handback)

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def reported(
    intent_id: str | None, wamid: str, status: str, **fields: Any
) -> MessageStatusReported:
    """A status of Meta's as ingest publishes it (with the callback data, when given)."""
    return MessageStatusReported(
        phone_number_id="pn-1", message_id=wamid, status=status, timestamp=utcnow(),
        recipient_id="16505551234", biz_opaque_callback_data=intent_id, **fields,
    )  # fmt: skip


SEALER = Sealer([SEALING_KEY])


def approved(
    intent_id: str, number: str = "pn-1", to: str = "16505551234", **fields: Any
) -> PolicyDecisionMade:
    """An approval as policy makes it: valid for a day unless told, the intent as submitted
    sealed for a hand-back (`submitted` overrides what was submitted)."""
    valid_until = fields.pop("valid_until", utcnow() + timedelta(days=1))
    sealed = fields.pop("sealed", None)
    submitted = fields.pop("submitted", None)
    intent = OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=number,
        to=to,
        content=fields.pop("content", TextContent(body="hello")),
        **fields,
    )
    raw = codec.encode(submitted or intent).decode()
    return PolicyDecisionMade(
        intent=intent, outcome="approved", valid_until=valid_until, sealed=sealed,
        resubmit=SEALER.seal({"intent": raw}),
    )  # fmt: skip


RIG_SETTINGS: dict[str, Any] = {
    "cloud_api": {"read_timeout_s": 0.3, "connect_timeout_s": 0.3},
    "retry": {"base_s": 0.01, "cap_s": 0.05, "max_attempts": 4, "maintenance_s": 0.05},
    "settle": {"unknown_wait_s": 0.0, "interval_s": 0.05, "report_grace_s": 0.0},
    "rates": {"default_mps": 500, "pair_interval_s": 0.001, "pair_burst": 50},
    "circuit_cooldown_s": 0.2,
    "backlog_high": 3,
    "backlog_low": 1,
    "group": "test",
    "sealing_keys": [SEALING_KEY],
}


@pytest.fixture
def rig_settings() -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in RIG_SETTINGS.items()}


@pytest.fixture
async def rig(fresh_database: str, rig_settings: dict[str, Any]) -> AsyncIterator[Rig]:
    api = await FakeCloudApi().start()
    rig_settings["cloud_api"]["base_url"] = api.base_url
    settings = DispatchSettings(**rig_settings)
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    consumer = FakeConsumer()
    ledger = PostgresLedger(pool)
    published = RecordingPublisher()
    async with aiohttp.ClientSession() as session:
        dispatch = build(
            settings, ledger=ledger, api=CloudApi(session, settings.cloud_api),
            publisher=published, clock=utcnow, consumer=consumer, registry=new_registry(),
            jitter=lambda: 0.5,
        )  # fmt: skip
        try:
            yield Rig(ledger, api, published, dispatch, consumer, settings)
        finally:
            await dispatch.senders.close()
            await api.stop()
            await pool.close()
    assert dispatch.senders.crash() is None


@pytest.fixture
async def shell(rig_settings: dict[str, Any]) -> AsyncIterator[Shell]:
    settings = DispatchSettings(**rig_settings)
    clock = FakeClock()
    ledger, api, published, consumer = (
        InMemoryLedger(clock),
        ScriptedApi(),
        RecordingPublisher(),
        FakeConsumer(),
    )
    dispatch = build(
        settings, ledger=ledger, api=api, publisher=published, clock=clock, consumer=consumer,
        registry=new_registry(), jitter=lambda: 0.5,
    )  # fmt: skip
    try:
        yield Shell(ledger, api, published, dispatch, consumer, settings, clock)
    finally:
        await dispatch.senders.close()
    assert dispatch.senders.crash() is None


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` served on a free local port while inside; its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
