"""Redrive on a real Kafka: the dead letter's record goes back to its source topic and partition
with its key, its own headers and which letter, who and when, as the CLI's redrive puts it (the
CLI then sees it as redriven and will not repeat it); the console records who redrove it. A
dead letter naming no source, or a topic that is not wagate's, is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import TopicPartition
from click.testing import CliRunner

from cli.main import main as cli_main
from services.console.handlers import Redriver
from services.console.metrics import ConsoleMetrics
from services.console.queries import Queries
from services.console.store import ReadModelStore
from shared import deadletters
from shared.messaging import make_producer, make_reader
from shared.metrics import new_registry
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS, INTENTS
from tests.services.console import facts

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _letter(headers: list[tuple[str, bytes]]) -> deadletters.DeadLetter:
    return deadletters.DeadLetter("dl", 0, 3, 0, b"k", b"v", tuple(headers))


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ([], "names no source topic"),
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
    assert deadletters.redrive_target(
        settings, _letter([(deadletters.SOURCE_TOPIC, b"p.wagate.intents.v1")])
    ) == ("p.wagate.intents.v1", None)


async def _redriven_by_the_console(
    kafka_settings: KafkaSettings, pool: asyncpg.Pool, source: str
) -> tuple[str, int, int, bytes]:
    """A dead intent from partition 4 of `source`, redriven by olga in the console:
    (dead-letter topic, its partition, its offset, the intent's value)."""
    dead_topic = kafka_settings.topic(DEAD_LETTERS.name)
    value = facts.reply("redrive-1").model_dump_json().encode()
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    try:
        headers = [("traceparent", b"00-abc-01"), (deadletters.REDRIVE_OF, b"old:0:1"),
                   (deadletters.REDRIVEN_BY, b"someone before"),
                   *deadletters.headers("PermanentError: no", "wagate-policy", topic=source,
                                        partition=4, offset=40)]  # fmt: skip
        meta = await producer.send_and_wait(
            dead_topic, value, key=b"106540352242922:16505551234", headers=headers
        )
        store = ReadModelStore(pool)
        record = facts.dead_intent_record(
            dead_topic, facts.reply("redrive-1"), meta.offset, source, meta.partition
        )
        await store.write(facts.batch_of([], [record]))
        redriver = Redriver(producer, kafka_settings, store, ConsoleMetrics(new_registry()))
        target = await redriver.redrive(dead_topic, meta.partition, meta.offset, "olga")
    finally:
        await producer.stop()
    assert target == source
    return dead_topic, meta.partition, meta.offset, value


async def _records_of(kafka_settings: KafkaSettings, topic: str) -> list[Any]:
    reader = make_reader(kafka_settings)
    await reader.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(INTENTS.partitions)]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        fetched = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    return [r for rs in fetched.values() for r in rs]


async def test_redrive_puts_the_record_back_on_its_source(
    kafka_settings: KafkaSettings, pool: asyncpg.Pool
) -> None:
    source = kafka_settings.topic(INTENTS.name)
    before = datetime.now(UTC)
    dead_topic, partition, offset, value = await _redriven_by_the_console(
        kafka_settings, pool, source
    )
    (back,) = await _records_of(kafka_settings, source)
    assert back.partition == 4  # the source partition, as the CLI's redrive
    assert back.key == b"106540352242922:16505551234"
    assert back.value == value
    names = dict(back.headers)
    assert list(names) == [
        "traceparent",
        deadletters.REDRIVE_OF,
        deadletters.REDRIVEN_BY,
        deadletters.REDRIVEN_AT,
    ]
    assert names["traceparent"] == b"00-abc-01"
    assert names[deadletters.REDRIVE_OF] == f"{dead_topic}:{partition}:{offset}".encode()
    assert names[deadletters.REDRIVEN_BY] == b"olga"
    assert before <= datetime.fromisoformat(names[deadletters.REDRIVEN_AT].decode())
    row = await Queries(pool).dead_letter(dead_topic, partition, offset)
    assert row is not None and row["redrives"] == 1 and row["redriven_by"] == "olga"


async def test_the_cli_sees_the_consoles_redrive_as_its_own(
    kafka_settings: KafkaSettings, pool: asyncpg.Pool
) -> None:
    """The console's redrive records what the CLI's does: `wagate deadletter show` finds the
    copy and who made it, and `wagate deadletter redrive` refuses to repeat it."""
    source = kafka_settings.topic(INTENTS.name)
    _, partition, offset, _ = await _redriven_by_the_console(kafka_settings, pool, source)
    (back,) = await _records_of(kafka_settings, source)
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]
    letter_id = f"{partition}:{offset}"
    shown = await asyncio.to_thread(
        CliRunner().invoke, cli_main, [*base, "deadletter", "show", letter_id]
    )
    assert shown.exit_code == 0, shown.output
    fields = json.loads(shown.stdout)
    assert fields["state"] == "redriven"
    assert fields["redriven_to"] == [f"{back.partition}:{back.offset}"]
    again = await asyncio.to_thread(
        CliRunner().invoke, cli_main, [*base, "deadletter", "redrive", letter_id, "--by", "ana"]
    )
    assert again.exit_code == 1
    assert "already redriven" in again.stdout + again.stderr
    assert len(await _records_of(kafka_settings, source)) == 1
