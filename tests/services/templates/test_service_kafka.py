"""The whole service in-process on real PostgreSQL and Kafka, against a local fake Cloud API:
submission, then approval, pause, re-categorisation, quality and rejection from webhook
updates, each reflected in the registry and on the compacted states topic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from pydantic import SecretStr

from services.templates.app import run
from services.templates.settings import TemplatesCloudApi, TemplatesSettings
from shared import codec
from shared.events.template_states import TemplateStateChanged
from shared.events.templates import TemplateUpdateReported
from shared.messaging import Publisher, make_producer, partitions_of
from shared.settings import HttpSettings, KafkaSettings, PostgresSettings
from shared.topics import TEMPLATE_STATES, TEMPLATE_UPDATES
from tests.conftest import free_port
from tests.services.templates.builders import body, buttons, template, url
from tests.services.templates.fakes import FakeCloudApi, serving

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(120)]
WABA = "102290129340398"
KEY = f"{WABA}:shipping_update:en_US"


@dataclass
class Running:
    url: str
    kafka: KafkaSettings
    meta: FakeCloudApi
    session: aiohttp.ClientSession

    async def request(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": "Bearer k1"}
        async with self.session.request(method, self.url + path, json=json, headers=headers) as r:
            return r.status, await r.json()


@pytest.fixture
async def running(fresh_database: str, kafka_settings: KafkaSettings) -> AsyncIterator[Running]:
    meta = FakeCloudApi()
    async with serving(meta.app()) as meta_url, aiohttp.ClientSession() as session:
        port = free_port()
        settings = TemplatesSettings(
            http=HttpSettings(port=port),
            kafka=kafka_settings,
            postgres=PostgresSettings(url=SecretStr(fresh_database)),
            cloud_api=TemplatesCloudApi(base_url=meta_url),
            api_keys=[SecretStr("k1")],
            group=f"templates-{uuid.uuid4().hex[:8]}",
            sync_interval_s=0,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, stop))
        url = f"http://127.0.0.1:{port}"
        async with asyncio.timeout(60):
            while True:
                if task.done():
                    task.result()
                try:
                    async with session.get(url + "/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        try:
            yield Running(url, kafka_settings, meta, session)
        finally:
            stop.set()
            await task


async def _report(kafka: KafkaSettings, update: TemplateUpdateReported) -> None:
    producer = make_producer(kafka, "test")
    await producer.start()
    try:
        await Publisher(producer, kafka).publish(TEMPLATE_UPDATES, update, f"{WABA}:1001")
    finally:
        await producer.stop()


async def _until(running: Running, check: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            _, got = await running.request("GET", "/v1/templates/" + KEY.replace(":", "/"))
            if check(got):
                return got  # type: ignore[no-any-return]
            await asyncio.sleep(0.2)


async def _states(kafka: KafkaSettings, count: int) -> list[TemplateStateChanged]:
    topic = kafka.topic(TEMPLATE_STATES.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in await partitions_of(kafka, topic)])
        await consumer.seek_to_beginning()
        states: list[TemplateStateChanged] = []
        async with asyncio.timeout(30):
            while len(states) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        assert record.key == KEY.encode()
                        states.append(codec.decode(TemplateStateChanged, record.value))
        return states
    finally:
        await consumer.stop()


def _update(kind: str, **fields: Any) -> TemplateUpdateReported:
    return TemplateUpdateReported(
        kind=kind,  # type: ignore[arg-type]
        waba_id=WABA,
        template_id="1001",
        template_name="shipping_update",
        language="en_US",
        **fields,
    )


async def test_from_submission_through_approval_pause_recategorisation_and_rejection(
    running: Running,
) -> None:
    created = {
        **template(body(), buttons(url())),
        "name": "shipping_update",
        "waba_id": WABA,
    }
    status, answer = await running.request("POST", "/v1/templates", created)
    assert status == 201 and answer["status"] == "PENDING" and answer["meta_id"] == "1001"

    await _report(running.kafka, _update("status", event="APPROVED"))
    await _until(running, lambda t: t["status"] == "APPROVED")
    await _report(running.kafka, _update("quality", new_quality_score="RED"))
    await _report(running.kafka, _update("status", event="PAUSED", reason="NONE"))
    await _until(running, lambda t: t["status"] == "PAUSED" and t["quality"] == "RED")
    await _report(running.kafka, _update("status", event="APPROVED"))
    await _report(
        running.kafka, _update("category", new_category="UTILITY", correct_category="MARKETING")
    )
    await _report(
        running.kafka, _update("category", previous_category="UTILITY", new_category="MARKETING")
    )
    await _until(running, lambda t: t["category"] == "MARKETING")
    await _report(running.kafka, _update("status", event="REJECTED", reason="SCAM"))
    final = await _until(running, lambda t: t["status"] == "REJECTED")
    assert final["rejected_reason"] == "SCAM"

    states = await _states(running.kafka, 9)
    assert [s.status for s in states] == [
        "DRAFT",
        "PENDING",
        "APPROVED",
        "APPROVED",
        "PAUSED",
        "APPROVED",
        "APPROVED",
        "APPROVED",
        "REJECTED",
    ]
    assert states[3].quality == "RED"
    assert (states[6].category, states[6].correct_category) == ("UTILITY", "MARKETING")
    assert (states[7].category, states[7].correct_category) == ("MARKETING", None)
    assert [s.version for s in states] == sorted(s.version for s in states)
    assert states[-1].parameters.body_count == 2
    assert [(b.index, b.sub_type) for b in states[-1].parameters.buttons] == [(0, "url")]
    async with running.session.get(running.url + "/metrics") as resp:
        metrics = await resp.text()
    assert 'wagate_templates_submissions_total{outcome="submitted"} 1.0' in metrics
    assert 'wagate_templates_updates_total{changed="true",kind="status"} 4.0' in metrics
    assert "wagate_templates_states_published_total 9.0" in metrics
    _, history = await running.request("GET", "/v1/templates/" + KEY.replace(":", "/") + "/history")
    assert [h["change"] for h in history["history"]] == [
        "created",
        "submitted",
        "webhook_status",
        "webhook_quality",
        "webhook_status",
        "webhook_status",
        "webhook_category",
        "webhook_category",
        "webhook_status",
    ]


async def test_the_states_topic_is_compacted(running: Running) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=running.kafka.bootstrap)
    await admin.start()
    try:
        topic = running.kafka.topic(TEMPLATE_STATES.name)
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    configs = {c[0]: c[1] for c in described.resources[0][4]}
    assert configs["cleanup.policy"] == "compact"
