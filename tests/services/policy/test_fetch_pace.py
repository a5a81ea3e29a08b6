"""The worker's Kafka client fetches only the partitions faust reads (faust's pause keeps a
partition's records from the streams, not from the fetch), and gathers its fetches only while
records come faster than one per `fetch_gather_ms`."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from services.policy import flow
from services.policy.flow import GATHER_BYTES, OnlyActive
from services.policy.settings import PolicySettings
from tests.conftest import delete_topics


class Client:
    """What `_fetch_only` reads of a Kafka client: its assignment and its paused partitions."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = set(assigned)
        self.held: set[TopicPartition] = set()
        self.calls: list[tuple[str, set[TopicPartition]]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def paused(self) -> set[TopicPartition]:
        return set(self.held)

    def pause(self, *tps: TopicPartition) -> None:
        assert all(isinstance(tp, TopicPartition) for tp in tps)  # as aiokafka insists
        self.calls.append(("pause", set(tps)))
        self.held |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.calls.append(("resume", set(tps)))
        self.held -= set(tps)


def _thread(gather_ms: int = 0) -> OnlyActive:
    thread = object.__new__(OnlyActive)  # only what the fetch's options read
    thread.app = SimpleNamespace(fetch_gather_ms=gather_ms)  # type: ignore[assignment]
    return thread


def _tps(topic: str, *partitions: int) -> set[TopicPartition]:
    return {TopicPartition(topic, p) for p in partitions}


def test_partitions_faust_does_not_read_are_paused_in_the_client() -> None:
    changelogs, intents = _tps("app-windows-changelog", 0, 1), _tps("intents", 0, 1)
    client = Client(changelogs | intents)
    thread = _thread()
    thread._fetch_only(client, {TP("intents", 0), TP("intents", 1)})  # faust's own TP type
    assert client.held == changelogs
    thread._fetch_only(client, {TP("intents", 0), TP("intents", 1)})
    assert len(client.calls) == 1  # the same set again: nothing asked of the client


def test_a_partition_faust_reads_again_is_resumed() -> None:
    # recovery reads the changelogs, then the inputs; a standby's changelog is read throughout
    changelog, intents = _tps("app-windows-changelog", 0), _tps("intents", 0)
    client = Client(changelog | intents)
    thread = _thread()
    thread._fetch_only(client, {TP("app-windows-changelog", 0)})
    assert client.held == intents
    thread._fetch_only(client, {TP("intents", 0), TP("app-windows-changelog", 0)})
    assert client.held == set()
    thread._fetch_only(client, {TP("intents", 0)})
    assert client.held == changelog


def test_a_new_assignment_is_looked_at_even_with_the_same_partitions_read() -> None:
    client = Client(_tps("intents", 0))
    thread = _thread()
    thread._fetch_only(client, {TP("intents", 0)})
    client.assigned |= _tps("intents", 1)  # a rebalance gave it one more, not yet read
    thread._fetch_only(client, {TP("intents", 0)})
    assert client.held == _tps("intents", 1)


class Fetcher:
    def __init__(self) -> None:
        self._fetch_min_bytes, self._fetch_max_wait_ms = 1, 1500  # as faust makes it


def test_fetches_gather_while_records_come_faster_than_one_per_gather_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(flow, "monotonic", lambda: now[0])
    thread, consumer = _thread(gather_ms=25), SimpleNamespace(_fetcher=Fetcher())
    fetcher = consumer._fetcher
    thread._pace(consumer, 0)  # the first look starts the count
    for _ in range(10):  # about 170 records a second: more than 1 per 25 ms
        now[0] += 0.06
        thread._pace(consumer, 10)
    assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == (GATHER_BYTES, 25)
    for _ in range(20):  # 30 a second: fewer than 1 per 25 ms, answered at once again
        now[0] += 0.1
        thread._pace(consumer, 3)
    assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == (1, 1500)


def test_without_a_gather_time_the_fetch_is_left_as_faust_made_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(flow, "monotonic", lambda: now[0])
    thread, consumer = _thread(gather_ms=0), SimpleNamespace(_fetcher=Fetcher())
    for _ in range(20):
        now[0] += 0.1
        thread._pace(consumer, 1000)
    assert (consumer._fetcher._fetch_min_bytes, consumer._fetcher._fetch_max_wait_ms) == (1, 1500)


def test_the_gather_time_is_a_setting_within_bounds() -> None:
    assert PolicySettings().fetch_gather_ms == 25
    assert PolicySettings(fetch_gather_ms=0).fetch_gather_ms == 0
    with pytest.raises(ValueError, match="fetch_gather_ms"):
        PolicySettings(fetch_gather_ms=-1)
    with pytest.raises(ValueError, match="fetch_gather_ms"):
        PolicySettings(fetch_gather_ms=5000)


async def _records(consumer: AIOKafkaConsumer, tps: set[Any], want: int) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(50):
        batch = await consumer.getmany(*tps, timeout_ms=200)
        got += [r.value for records in batch.values() for r in records]
        if len(got) >= want:
            break
    return got


@pytest.mark.kafka
async def test_a_paused_partition_loses_nothing_and_is_read_whole_once_resumed(
    kafka_bootstrap: str,
) -> None:
    topic = f"t{uuid.uuid4().hex[:10]}.fetch"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    try:
        read, held = TopicPartition(topic, 0), TopicPartition(topic, 1)
        for n in range(20):
            await producer.send_and_wait(topic, f"a{n}".encode(), partition=0)
            await producer.send_and_wait(topic, f"b{n}".encode(), partition=1)
        consumer.assign([read, held])
        await consumer.seek_to_beginning()
        first = await _records(consumer, {read}, 1)  # the first fetch asked for both
        thread = _thread()
        thread._fetch_only(consumer, {TP(topic, 0)})
        assert consumer.paused() == {held}
        rest = await _records(consumer, {read}, 20 - len(first))
        assert first + rest == [f"a{n}".encode() for n in range(20)]
        for n in range(20, 30):
            await producer.send_and_wait(topic, f"b{n}".encode(), partition=1)
        thread._fetch_only(consumer, {TP(topic, 0), TP(topic, 1)})
        assert consumer.paused() == set()
        got = await _records(consumer, {held}, 30)
        assert got == [f"b{n}".encode() for n in range(30)]  # in order, each once, none lost
    finally:
        await consumer.stop()
        await producer.stop()
        await delete_topics(kafka_bootstrap, topic)
