"""The CLI against a real broker: what `wagate send` produces, and `wagate tail` prints."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from click.testing import CliRunner

from cli.main import main
from shared import codec
from shared.events.intents import OutboundIntentSubmitted, ReadReceiptContent
from shared.messaging import partitions_of
from shared.settings import KafkaSettings
from shared.topics import INTENTS

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


async def _intents(settings: KafkaSettings) -> list[tuple[bytes, OutboundIntentSubmitted]]:
    topic = settings.topic(INTENTS.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in await partitions_of(settings, topic)])
        await consumer.seek_to_beginning()
        batches = await consumer.getmany(timeout_ms=3000)
        return [
            (r.key, codec.decode(OutboundIntentSubmitted, r.value))
            for records in batches.values()
            for r in records
        ]
    finally:
        await consumer.stop()


def test_send_produces_a_keyed_intent_and_tail_prints_it(kafka_settings: KafkaSettings) -> None:
    runner = CliRunner()
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]
    sent = runner.invoke(
        main,
        [
            *base,
            "send",
            "template",
            "--from",
            "106540352242922",
            "--to",
            "+1 (650) 555-1234",
            "--name",
            "login_code",
            "--language",
            "en_US",
            "--sensitive-param",
            "739201",
            "--intent-id",
            "cli-1",
            "--meta",
            "order=42",
        ],
    )
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output.splitlines()[0]) == {"intent_id": "cli-1"}

    [(key, intent)] = asyncio.run(_intents(kafka_settings))
    assert key == b"106540352242922:16505551234"
    assert intent.intent_id == "cli-1" and intent.metadata == {"order": "42"}
    assert intent.content.type == "template"
    assert intent.content.components[0]["parameters"][0] == {  # type: ignore[union-attr]
        "type": "text",
        "text": "739201",
        "sensitive": True,
    }

    tailed = runner.invoke(
        main, [*base, "tail", "intents", "--from-beginning", "--max", "1", "--timeout", "20"]
    )
    assert tailed.exit_code == 0, tailed.output
    assert json.loads(tailed.output.splitlines()[0])["intent_id"] == "cli-1"


def test_send_read_receipt_produces_one(kafka_settings: KafkaSettings) -> None:
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]
    args = ["send", "read-receipt", "--from", "106540352242922", "--to", "16505551234"]
    sent = CliRunner().invoke(main, [*base, *args, "--message-id", "wamid.IN1", "--typing"])
    assert sent.exit_code == 0, sent.output
    [(_, intent)] = asyncio.run(_intents(kafka_settings))
    assert intent.content == ReadReceiptContent(message_id="wamid.IN1", typing_indicator=True)


def test_an_unreachable_broker_exits_69() -> None:
    result = CliRunner().invoke(
        main,
        ["--bootstrap", "127.0.0.1:1", "send", "text", "--from", "1", "--to", "2", "--body", "hi"],
    )
    assert result.exit_code == 69
    assert "Kafka is unreachable" in result.output
