"""A dispatch rig: dispatch as `app.build` wires it, over the real ledger on a fresh PostgreSQL,
a local fake Cloud API and a publisher that records what dispatch would put on Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import ConsumerRecord

from services.dispatch.app import MIGRATIONS, Dispatch, build
from services.dispatch.cloudapi import CloudApi
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.store import PostgresLedger
from shared import db
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.webhooks import MessageStatusReported
from shared.metrics import new_registry
from shared.settings import PostgresSettings
from tests.services.dispatch.fake_cloudapi import FakeCloudApi
from tests.services.dispatch.fakes import FakeConsumer, RecordingPublisher


@dataclass
class Rig:
    ledger: PostgresLedger
    api: FakeCloudApi
    published: RecordingPublisher
    dispatch: Dispatch
    consumer: FakeConsumer
    settings: DispatchSettings

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
        await self.dispatch.statuses.on_status(status, None)  # type: ignore[arg-type]

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
    "backlog_high": 3,
    "backlog_low": 1,
    "group": "test",
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
