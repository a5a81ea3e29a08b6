"""Redrive on a real Kafka: the dead letter's record goes back to its source topic with its
key, its own headers and where it came from; the console records who redrove it. A dead
letter naming no source, or a topic that is not wagate's, is refused."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import TopicPartition

from services.console.handlers import Redriver
from services.console.metrics import ConsoleMetrics
from services.console.projection import RawRecord
from services.console.queries import Queries
from services.console.store import ReadModelStore
from shared import deadletters
from shared.messaging import make_producer, make_reader
from shared.metrics import new_registry
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS, INTENTS
from tests.services.console import facts

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _letter(headers: list[tuple[str, bytes]]) -> RawRecord:
    return RawRecord("dl", 0, 3, 0, b"k", b"v", tuple(headers))


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ([], "names no wagate-source-topic"),
        ([(deadletters.SOURCE_TOPIC, b"someone.elses.topic")], "not one of wagate's topics"),
        ([(deadletters.SOURCE_TOPIC, b"wagate.intents.v1")], "not one of wagate's topics"),
        ([(deadletters.SOURCE_TOPIC, b"p.wagate.deadletter.v1")], "not one of wagate's topics"),
    ],
)
def test_a_dead_letter_with_nowhere_to_go_is_refused(
    headers: list[tuple[str, bytes]], why: str
) -> None:
    settings = KafkaSettings(topic_prefix="p.")
    with pytest.raises(deadletters.RedriveRefused, match=why):
        deadletters.redrive_target(settings, _letter(headers))
    assert (
        deadletters.redrive_target(
            settings, _letter([(deadletters.SOURCE_TOPIC, b"p.wagate.intents.v1")])
        )
        == "p.wagate.intents.v1"
    )


async def test_redrive_puts_the_record_back_on_its_source(
    kafka_settings: KafkaSettings, pool: asyncpg.Pool
) -> None:
    dead_topic = kafka_settings.topic(DEAD_LETTERS.name)
    source = kafka_settings.topic(INTENTS.name)
    intent = facts.reply("redrive-1")
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    try:
        headers = [("traceparent", b"00-abc-01"), (deadletters.REDRIVEN_FROM, b"old"),
                   *deadletters.headers("PermanentError: no", "wagate-policy", topic=source,
                                        partition=4, offset=40)]  # fmt: skip
        meta = await producer.send_and_wait(
            dead_topic, intent.model_dump_json().encode(), key=b"106540352242922:16505551234",
            headers=headers,
        )  # fmt: skip
        store = ReadModelStore(pool)
        record = facts.dead_intent_record(dead_topic, intent, meta.offset, source, meta.partition)
        await store.write(facts.batch_of([], [record]))
        redriver = Redriver(producer, kafka_settings, store, ConsoleMetrics(new_registry()))
        target = await redriver.redrive(dead_topic, meta.partition, meta.offset, "olga")
    finally:
        await producer.stop()
    assert target == source
    reader = make_reader(kafka_settings)
    await reader.start()
    try:
        tps = [TopicPartition(source, p) for p in range(INTENTS.partitions)]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        fetched = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    (back,) = [r for rs in fetched.values() for r in rs]
    assert back.key == b"106540352242922:16505551234"
    assert back.value == intent.model_dump_json().encode()
    assert dict(back.headers) == {
        "traceparent": b"00-abc-01",
        deadletters.REDRIVEN_FROM: f"{dead_topic}:{meta.partition}:{meta.offset}".encode(),
    }
    row = await Queries(pool).dead_letter(dead_topic, meta.partition, meta.offset)
    assert row is not None and row["redrives"] == 1 and row["redriven_by"] == "olga"
