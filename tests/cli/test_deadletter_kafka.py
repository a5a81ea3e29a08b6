"""`wagate tail --headers` and `wagate deadletter list | show | redrive` against a real broker:
a dead letter goes back to its source topic and partition with its key, value and original
headers plus who redrove it, when and from where, and never twice without saying so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from click.testing import CliRunner, Result

from cli.main import main
from shared import deadletters
from shared.messaging import make_producer, partitions_of
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS, INTENTS

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

TRACE = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
KEY = b"106540352242922:16505551234"
VALUE = b'{"intent_id": "broken-1", "content": "not an object"}'


def wagate(settings: KafkaSettings, *args: str) -> Result:
    base = ["--bootstrap", settings.bootstrap, "--topic-prefix", settings.topic_prefix]
    return CliRunner().invoke(main, [*base, *args])


async def _produce(
    settings: KafkaSettings,
    topic: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    partition: int,
) -> tuple[int, int]:
    producer = make_producer(settings, "test")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, value, key=KEY, headers=headers, partition=partition
        )
    finally:
        await producer.stop()
    return sent.partition, sent.offset


async def _records(
    settings: KafkaSettings, topic: str
) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await partitions_of(settings, topic)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                out += [(r.partition, r.offset, r.key, r.value, list(r.headers)) for r in batch]
        return sorted(out)
    finally:
        await consumer.stop()


@pytest.fixture
async def letter(kafka_settings: KafkaSettings) -> AsyncIterator[tuple[str, str, int]]:
    """A dead letter of an intent from partition 5, offset 17: its id, source topic, partition."""
    source = kafka_settings.topic(INTENTS.name)
    headers = [
        *deadletters.headers(
            "DecodeError: not a valid OutboundIntentSubmitted: content",
            "wagate-policy",
            topic=source,
            partition=5,
            offset=17,
        ),
        TRACE,
    ]
    dlq = kafka_settings.topic(DEAD_LETTERS.name)
    partition, offset = await _produce(kafka_settings, dlq, VALUE, headers, partition=3)
    yield f"{partition}:{offset}", source, 5


def test_tail_prints_key_partition_offset_and_headers(
    kafka_settings: KafkaSettings, letter: tuple[str, str, int]
) -> None:
    args = ["tail", "deadletter", "--from-beginning", "--max", "1", "--timeout", "20", "--headers"]
    result = wagate(kafka_settings, *args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["key"], shown["partition"], f"{shown['partition']}:{shown['offset']}") == (
        KEY.decode(),
        3,
        letter[0],
    )
    assert shown["headers"][deadletters.REASON].startswith("DecodeError")
    assert shown["headers"]["traceparent"] == TRACE[1].decode()
    assert shown["value"] == json.loads(VALUE) and shown["timestamp"].endswith("+00:00")

    after = wagate(kafka_settings, "--table", *args, "--json")  # --json after the name wins
    assert json.loads(after.stdout)["offset"] == shown["offset"]
    tabled = wagate(kafka_settings, "--table", *args).stdout.splitlines()
    assert tabled[0].startswith(f"{letter[0]}  {KEY.decode()}  {{")
    assert f"    {deadletters.SOURCE_OFFSET}: 17" in tabled

    plain = wagate(
        kafka_settings, "tail", "deadletter", "--from-beginning", "--max", "1", "--timeout", "20"
    )
    assert json.loads(plain.stdout) == json.loads(VALUE)  # without --headers: the event, as before


def test_list_and_show_say_why_from_where_and_whether_redriven(
    kafka_settings: KafkaSettings, letter: tuple[str, str, int]
) -> None:
    listed = wagate(kafka_settings, "deadletter", "list")
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["id"] == letter[0] and row["source_topic"] == letter[1]
    assert (row["source_partition"], row["source_offset"]) == (5, 17)
    assert row["consumer_group"] == "wagate-policy" and row["state"] == "not redriven"
    assert row["reason"].startswith("DecodeError")
    assert wagate(kafka_settings, "deadletter", "list", "--source", "decisions").stdout == ""

    shown = json.loads(wagate(kafka_settings, "deadletter", "show", letter[0]).stdout)
    assert shown["headers"]["traceparent"] == TRACE[1].decode()
    assert shown["value"] == json.loads(VALUE) and shown["redriven_to"] == []

    missing = wagate(kafka_settings, "deadletter", "show", "3:999999")
    assert missing.exit_code == 1 and "no dead letter 3:999999" in missing.stderr


def test_redrive_puts_it_back_once_with_its_headers_and_who_when_where(
    kafka_settings: KafkaSettings, letter: tuple[str, str, int]
) -> None:
    letter_id, source, partition = letter
    done = wagate(kafka_settings, "deadletter", "redrive", letter_id, "--by", "alice")
    assert done.exit_code == 0, done.output
    row = json.loads(done.stdout)
    assert (row["redriven"], row["topic"], row["partition"], row["by"]) == (
        True,
        source,
        partition,
        "alice",
    )

    [(p, offset, key, value, headers)] = asyncio.run(_records(kafka_settings, source))
    assert (p, offset, key, value) == (partition, row["offset"], KEY, VALUE)
    names = dict(headers)
    assert names["traceparent"] == TRACE[1]
    assert (
        names["wagate-redrive-of"]
        == f"{kafka_settings.topic(DEAD_LETTERS.name)}:{letter_id}".encode()
    )
    assert names["wagate-redriven-by"] == b"alice"
    assert names["wagate-redriven-at"].decode() == row["at"]
    assert not {deadletters.REASON, deadletters.SOURCE_TOPIC, deadletters.CONSUMER_GROUP} & set(
        names
    )

    again = wagate(kafka_settings, "deadletter", "redrive", letter_id)
    assert again.exit_code == 1 and "already redriven" in again.stderr + again.stdout
    assert len(asyncio.run(_records(kafka_settings, source))) == 1  # nothing produced

    listed = json.loads(wagate(kafka_settings, "deadletter", "list").stdout)
    assert listed["state"] == "redriven"
    shown = json.loads(wagate(kafka_settings, "deadletter", "show", letter_id).stdout)
    assert shown["redriven_to"] == [f"{partition}:{row['offset']}"]

    forced = wagate(kafka_settings, "deadletter", "redrive", letter_id, "--again")
    assert forced.exit_code == 0, forced.output
    assert len(asyncio.run(_records(kafka_settings, source))) == 2


def test_a_letter_naming_no_source_needs_a_target(kafka_settings: KafkaSettings) -> None:
    dlq = kafka_settings.topic(DEAD_LETTERS.name)
    headers = deadletters.headers("SealedParametersUnreadable", "wagate-dispatch", intent_id="i-9")
    partition, offset = asyncio.run(_produce(kafka_settings, dlq, VALUE, headers, partition=0))

    refused = wagate(kafka_settings, "deadletter", "redrive", f"{partition}:{offset}")
    assert refused.exit_code == 1 and "names no source topic" in refused.stdout + refused.stderr

    dry = wagate(
        kafka_settings,
        "deadletter",
        "redrive",
        f"{partition}:{offset}",
        "--to",
        "intents",
        "--dry-run",
    )
    assert dry.exit_code == 0 and json.loads(dry.stdout)["dry_run"] is True
    assert asyncio.run(_records(kafka_settings, kafka_settings.topic(INTENTS.name))) == []

    done = wagate(
        kafka_settings, "deadletter", "redrive", f"{partition}:{offset}", "--to", "intents"
    )
    assert done.exit_code == 0, done.output
    [(_, _, key, value, headers)] = asyncio.run(
        _records(kafka_settings, kafka_settings.topic(INTENTS.name))
    )
    assert (key, value) == (KEY, VALUE) and dict(headers)["wagate-redriven-by"]


def test_a_letter_from_a_topic_that_is_not_wagates_is_not_redriven(
    kafka_settings: KafkaSettings,
) -> None:
    dlq = kafka_settings.topic(DEAD_LETTERS.name)
    elsewhere = "someone.elses.orders"  # not under the prefix, not in the registry
    headers = deadletters.headers("DecodeError", "wagate-policy", topic=elsewhere, partition=0)
    partition, offset = asyncio.run(_produce(kafka_settings, dlq, VALUE, headers, partition=1))
    refused = wagate(kafka_settings, "deadletter", "redrive", f"{partition}:{offset}")
    assert refused.exit_code == 1
    assert f"{elsewhere} is not one of wagate's topics" in refused.stdout + refused.stderr


async def _delete_up_to(settings: KafkaSettings, topic: str, partition: int, offset: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, partition): RecordsToDelete(offset)})
    finally:
        await admin.close()


def test_when_retention_may_have_removed_a_copy_the_redrive_asks_for_again(
    kafka_settings: KafkaSettings, letter: tuple[str, str, int]
) -> None:
    letter_id, source, partition = letter
    asyncio.run(_produce(kafka_settings, source, b"{}", [], partition=partition))
    asyncio.run(_produce(kafka_settings, source, b"{}", [], partition=partition))
    asyncio.run(_delete_up_to(kafka_settings, source, partition, 1))  # as retention would

    listed = json.loads(wagate(kafka_settings, "deadletter", "list").stdout)
    assert listed["state"] == "unknown"
    refused = wagate(kafka_settings, "deadletter", "redrive", letter_id)
    assert refused.exit_code == 1 and "retention deleted" in refused.stdout + refused.stderr
    assert wagate(kafka_settings, "deadletter", "redrive", letter_id, "--again").exit_code == 0
