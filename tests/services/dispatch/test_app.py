"""Dispatch as `build` wires it, over fakes only: its subscriptions reach the handlers, the
settings shape every piece, intents queued before a restart are sent, and `GET /numbers`."""

from __future__ import annotations

import time

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiokafka import ConsumerRecord, TopicPartition

from services.dispatch import app
from services.dispatch.cloudapi import SendOutcome
from services.dispatch.ledger import LedgerState, NewIntent
from services.dispatch.settings import DispatchSettings
from shared import codec
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.webhooks import MessageStatusReported
from shared.metrics import new_registry
from shared.settings import KafkaSettings
from tests.conftest import SEALING_KEY
from tests.services.dispatch.conftest import Shell, approved, reported
from tests.services.dispatch.fakes import (
    FakeClock,
    FakeConsumer,
    InMemoryLedger,
    RecordingPublisher,
    ScriptedApi,
)

PARTITION = TopicPartition("decisions", 0)


def _record() -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("decisions", 0, 0, 0, 0, None, b"", None, 0, 0, ())


def test_the_subscriptions_are_the_decisions_and_statuses_topics_of_the_deployment() -> None:
    settings = DispatchSettings(
        kafka=KafkaSettings(topic_prefix="staging."), sealing_keys=[SEALING_KEY]
    )
    dispatch = app.build(
        settings, ledger=InMemoryLedger(), api=ScriptedApi(), publisher=RecordingPublisher(),
        clock=FakeClock(), consumer=FakeConsumer(), registry=new_registry(),
    )  # fmt: skip
    subscriptions = dispatch.subscriptions
    assert list(subscriptions) == ["staging.wagate.decisions.v1", "staging.wagate.statuses.v1"]
    decisions, statuses = subscriptions.values()
    assert decisions.model is PolicyDecisionMade and statuses.model is MessageStatusReported
    assert decisions.handler == dispatch.decisions.on_decision
    assert statuses.handler == dispatch.statuses.on_status


async def test_a_decision_and_its_status_through_the_subscriptions(shell: Shell) -> None:
    decisions, statuses = shell.dispatch.subscriptions.values()
    await decisions.handler(approved("i-1"), _record())
    await shell.wait_for(lambda: shell.states("i-1") == ["accepted"])
    await statuses.handler(reported("i-1", "wamid.i-1", "delivered"), _record())
    assert shell.states("i-1") == ["accepted", "delivered"]
    assert shell.api.count("i-1") == 1


async def test_a_backed_up_partition_is_paused_at_the_settings_high_water_mark(
    shell: Shell,
) -> None:
    shell.consumer.assigned = {PARTITION}
    shell.senders.get("pn-1").bucket.block(time.monotonic(), 5)  # nothing goes for now
    for n in range(3):  # backlog_high in the rig's settings
        await shell.decide(approved(f"i-{n}"))
        assert shell.consumer.paused_now == ({PARTITION} if n == 2 else set())


async def test_given_up_intents_are_dead_lettered_under_the_settings_consumer_group(
    shell: Shell,
) -> None:
    error = SendOutcome(500, error=MetaError(code=131000))
    shell.api.script("i-1", *[error] * shell.settings.retry.max_attempts)
    await shell.decide(approved("i-1"))
    await shell.wait_for(lambda: shell.states("i-1") == ["failed"])
    [letter] = shell.published.dead_letters()
    assert letter["wagate-consumer-group"] == b"test"


async def test_intents_queued_before_a_restart_are_sent_by_their_numbers(shell: Shell) -> None:
    for intent_id, number in [("a", "pn-a"), ("b", "pn-b")]:
        decision = codec.encode(approved(intent_id, number=number)).decode()
        await shell.ledger.claim(
            NewIntent(intent_id, number, "16505551234", {}, LedgerState.QUEUED, decision)
        )
    await app._restore(shell.ledger, shell.senders)
    await shell.wait_for(lambda: shell.states("a") == shell.states("b") == ["accepted"])


async def test_the_numbers_route_shows_the_registry_without_tokens() -> None:
    settings = DispatchSettings.model_validate(
        {"numbers": {"111": {"waba_id": "w-1", "mps": 1000, "access_token": "EAAG-secret"}}}
    ).with_registry()
    routes = web.Application()
    routes.router.add_get("/numbers", app._numbers(settings))
    async with (
        TestServer(routes) as server,
        aiohttp.ClientSession() as session,
        session.get(server.make_url("/numbers")) as resp,
    ):
        body = await resp.json()
    assert body == {"numbers": {"111": {"waba_id": "w-1", "mps": 1000, "own_token": True}}}
