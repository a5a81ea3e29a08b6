"""A dispatch rig: the real ledger on a fresh PostgreSQL, the real senders and settler, a
local fake Cloud API, and a publisher that records what dispatch would put on Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import ConsumerRecord

from bench.fake_cloudapi import FakeCloudApi
from services.dispatch.app import MIGRATIONS
from services.dispatch.backpressure import Backpressure
from services.dispatch.cloudapi import CloudApi
from services.dispatch.handlers import Dispatcher
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.store import PostgresLedger
from shared import db
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event, utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.settings import PostgresSettings
from shared.topics import TopicSpec


@dataclass
class RecordingPublisher:
    events: list[tuple[str, Event, str | None, dict[str, bytes]]] = field(default_factory=list)

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        self.events.append((spec.name, event, key, dict(headers)))

    def on(self, topic: str) -> list[Event]:
        return [e for t, e, _, _ in self.events if t == topic]

    def updates(self, intent_id: str) -> list[DeliveryUpdated]:
        return [
            e
            for e in self.on("wagate.delivery.v1")
            if isinstance(e, DeliveryUpdated) and e.intent_id == intent_id
        ]


@dataclass
class FakeConsumer:
    assigned: set[object] = field(default_factory=set)
    paused_now: set[object] = field(default_factory=set)

    def pause(self, *partitions: object) -> None:
        self.paused_now.update(partitions)

    def resume(self, *partitions: object) -> None:
        self.paused_now.difference_update(partitions)

    def assignment(self) -> set[object]:
        return self.assigned


@dataclass
class Rig:
    ledger: PostgresLedger
    api: FakeCloudApi
    published: RecordingPublisher
    dispatcher: Dispatcher
    senders: Senders
    settler: Settler
    consumer: FakeConsumer
    settings: DispatchSettings

    async def decide(self, decision: PolicyDecisionMade, partition: int = 0) -> None:
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "decisions", partition, 0, 0, 0, None, b"", None, 0, 0, ()
        )
        await self.dispatcher.on_decision(decision, record)

    async def wait_for(self, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.01)

    def states(self, intent_id: str) -> list[str]:
        return [u.state for u in self.published.updates(intent_id)]


def approved(
    intent_id: str, number: str = "pn-1", to: str = "16505551234", **fields: Any
) -> PolicyDecisionMade:
    valid_until = fields.pop("valid_until", None)
    sealed = fields.pop("sealed", None)
    intent = OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=number,
        to=to,
        content=fields.pop("content", TextContent(body="hello")),
        **fields,
    )
    return PolicyDecisionMade(
        intent=intent, outcome="approved", valid_until=valid_until, sealed=sealed
    )


RIG_SETTINGS: dict[str, Any] = {
    "cloud_api": {"read_timeout_s": 0.3, "connect_timeout_s": 0.3},
    "retry": {"base_s": 0.01, "cap_s": 0.05, "max_attempts": 4, "maintenance_s": 0.05},
    "settle": {"unknown_wait_s": 0.0, "interval_s": 0.05, "report_grace_s": 0.0},
    "rates": {"default_mps": 500, "pair_interval_s": 0.001, "pair_burst": 50},
    "circuit_cooldown_s": 0.2,
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
    metrics = DispatchMetrics(new_registry())
    consumer = FakeConsumer()
    backpressure = Backpressure(consumer, 3, 1, metrics.paused)  # type: ignore[arg-type]
    ledger = PostgresLedger(pool)
    published = RecordingPublisher()
    reporter = Reporter(ledger, published, metrics, "test")
    senders = Senders(settings, backpressure, metrics, utcnow)
    async with aiohttp.ClientSession() as session:
        dispatcher = Dispatcher(
            ledger, CloudApi(session, settings.cloud_api), reporter, senders, backpressure,
            metrics, utcnow, settings.retry.policy(), jitter=lambda: 0.5,
            sealer=Sealer(settings.sealing_keys),
        )  # fmt: skip
        senders.bind(dispatcher.attempt, dispatcher.reload)
        settler = Settler(
            ledger, reporter, senders, metrics, settings, settings.retry.policy(), utcnow
        )
        try:
            yield Rig(ledger, api, published, dispatcher, senders, settler, consumer, settings)
        finally:
            await senders.close()
            await api.stop()
            await pool.close()
    assert senders.crash() is None
