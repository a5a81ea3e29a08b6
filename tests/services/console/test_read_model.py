"""The read model's shell over fakes: a fetch is written as one batch and only then
committed; an unavailable database rewinds the fetch and commits nothing; a record the
console cannot read is skipped and counted; dead letters are kept as records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from services.console.errors import StoreUnavailable
from services.console.handlers import ReadModel
from services.console.metrics import ConsoleMetrics
from services.console.projection import Batch
from shared import codec
from shared.events.intents import OutboundIntentSubmitted
from shared.metrics import new_registry
from tests.services.console import facts

INTENTS, DEAD = "wagate.intents.v1", "wagate.deadletter.v1"


def _record(topic: str, offset: int, value: bytes | None, partition: int = 0) -> Any:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", value, None, 0,
                          len(value or b""), [])  # fmt: skip


@dataclass
class FakeConsumer:
    fetches: list[dict[TopicPartition, list[Any]]]
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    seeks: list[tuple[TopicPartition, int]] = field(default_factory=list)

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> Any:
        return self.fetches.pop(0) if self.fetches else {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)


@dataclass
class FakeWriter:
    fail: int = 0
    batches: list[Batch] = field(default_factory=list)

    async def write(self, batch: Batch) -> dict[str, int]:
        if self.fail:
            self.fail -= 1
            raise StoreUnavailable("console read model unavailable: connection refused")
        self.batches.append(batch)
        return {name: len(rows) for name, rows in batch.rows.items()}


def _reader(consumer: FakeConsumer, writer: FakeWriter) -> tuple[ReadModel, ConsoleMetrics]:
    metrics = ConsoleMetrics(new_registry())
    models = {INTENTS: OutboundIntentSubmitted, DEAD: None}
    return ReadModel(consumer, writer, models, metrics, max_backoff_s=0), metrics  # type: ignore[arg-type]


def _fetch() -> dict[TopicPartition, list[Any]]:
    one, two = facts.reply("a"), facts.reply("b")
    return {
        TopicPartition(INTENTS, 0): [_record(INTENTS, 5, codec.encode(one)),
                                     _record(INTENTS, 6, b"{not json")],
        TopicPartition(INTENTS, 1): [_record(INTENTS, 9, codec.encode(two), partition=1)],
        TopicPartition(DEAD, 0): [_record(DEAD, 2, b"\x00garbage")],
    }  # fmt: skip


async def test_a_fetch_is_one_batch_committed_after_it_is_written() -> None:
    consumer, writer = FakeConsumer([_fetch()]), FakeWriter()
    reader, metrics = _reader(consumer, writer)
    assert await reader.step()
    (batch,) = writer.batches
    assert len(batch.rows["console_intents"]) == 2
    assert len(batch.rows["console_dead_letters"]) == 1
    assert consumer.commits == [{TopicPartition(INTENTS, 0): 7, TopicPartition(INTENTS, 1): 10,
                                 TopicPartition(DEAD, 0): 3}]  # fmt: skip
    skipped = metrics.skipped.labels(INTENTS)._value.get()
    assert skipped == 1


async def test_an_unavailable_read_model_rewinds_the_fetch_and_commits_nothing() -> None:
    fetch = _fetch()
    consumer, writer = FakeConsumer([fetch, fetch]), FakeWriter(fail=1)
    reader, metrics = _reader(consumer, writer)
    assert not await reader.step()
    assert consumer.commits == []
    assert sorted(consumer.seeks) == sorted(
        [(TopicPartition(INTENTS, 0), 5), (TopicPartition(INTENTS, 1), 9),
         (TopicPartition(DEAD, 0), 2)]
    )  # fmt: skip
    assert await reader.step()
    assert len(consumer.commits) == 1 and metrics.retried._value.get() == 1


async def test_an_empty_fetch_writes_nothing() -> None:
    consumer, writer = FakeConsumer([]), FakeWriter()
    reader, _ = _reader(consumer, writer)
    assert await reader.step()
    assert writer.batches == [] and consumer.commits == []
