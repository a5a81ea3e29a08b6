"""The consume loop branches on an error's `retryable` attribute, whatever its class; side by
side, a fetch's partitions go at once and what they settled is committed in one request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared import codec
from shared.deadletters import CONSUMER_GROUP, REASON, SOURCE_OFFSET, headers
from shared.errors import WagateError
from shared.events.delivery import DeliveryUpdated
from shared.messaging import ConsumeLoop, Subscription
from shared.metrics import ConsumerMetrics, new_registry
from shared.topics import DELIVERY

TOPIC = "t.wagate.delivery.v1"
TP = TopicPartition(TOPIC, 0)


class StillTransient(WagateError):
    retryable = True


class NeverGood(WagateError):
    retryable = False


class Consumer:
    def __init__(self) -> None:
        self.seeks: list[int] = []
        self.commits: list[int] = []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets[TP])


class DeadLetters:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    async def dead_letter(self, record: Any, group: str, reason: str) -> None:
        self.reasons.append(reason)


def _record(offset: int, intent_id: str) -> ConsumerRecord[bytes, bytes]:
    update = DeliveryUpdated(intent_id=intent_id, phone_number_id="1", to="2", state="sent")
    return ConsumerRecord(
        TOPIC, 0, offset, 0, 0, None, codec.encode(update), None, 0, 0, []
    )  # fmt: skip


@pytest.mark.parametrize(
    ("error", "seeks", "commits", "dead"),
    [
        (StillTransient("later"), [1], [1], []),
        (NeverGood("never"), [], [3], ["NeverGood: never"]),
    ],
)
async def test_the_retryable_attribute_decides(
    error: WagateError, seeks: list[int], commits: list[int], dead: list[str]
) -> None:
    async def handler(event: DeliveryUpdated, _: Any) -> None:
        if event.intent_id == "bad":
            raise error

    consumer, letters = Consumer(), DeadLetters()
    loop = ConsumeLoop(
        consumer,  # type: ignore[arg-type]
        "g",
        {TOPIC: Subscription(DELIVERY, DeliveryUpdated, handler)},
        letters,  # type: ignore[arg-type]
        ConsumerMetrics.create(new_registry(), "test"),
        max_backoff_s=0.01,
    )
    await loop._handle_partition(TP, [_record(0, "ok"), _record(1, "bad"), _record(2, "ok")])
    assert (consumer.seeks, consumer.commits, letters.reasons) == (seeks, commits, dead)


def test_dead_letter_headers_say_why_who_and_where() -> None:
    built = dict(headers("x" * 2000, "grp", topic="t", partition=3, offset=9, intent_id="i"))
    assert built[REASON] == b"x" * 1000
    assert built[CONSUMER_GROUP] == b"grp"
    assert built[SOURCE_OFFSET] == b"9"
    assert set(built) == {
        REASON,
        CONSUMER_GROUP,
        SOURCE_OFFSET,
        "wagate-source-topic",
        "wagate-source-partition",
        "wagate-intent-id",
    }


def _batch_loop(
    batch: Any, handler: Any = None, registry: Any = None
) -> tuple[ConsumeLoop, Consumer, DeadLetters]:
    async def one(event: DeliveryUpdated, _: Any) -> None:
        if event.intent_id.startswith("bad"):
            raise NeverGood(event.intent_id)

    consumer, letters = Consumer(), DeadLetters()
    loop = ConsumeLoop(
        consumer,  # type: ignore[arg-type]
        "g",
        {TOPIC: Subscription(DELIVERY, DeliveryUpdated, handler or one, batch)},
        letters,  # type: ignore[arg-type]
        ConsumerMetrics.create(registry or new_registry(), "test"),
        max_backoff_s=0.01,
    )
    return loop, consumer, letters


def _undecodable(offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, None, b"{not json", None, 0, 0, [])


@pytest.mark.parametrize(
    ("failures", "seeks", "commits", "dead"),
    [
        ({}, [], [5], []),
        ({2: StillTransient("later")}, [2], [2], []),  # nothing past it is committed
        ({0: StillTransient("later")}, [0], [], []),
        ({1: NeverGood("never")}, [], [5], ["NeverGood: never"]),
        ({1: NeverGood("never"), 3: OSError("gone")}, [3], [3], ["NeverGood: never"]),
    ],
)
async def test_a_batch_commits_up_to_its_first_retryable_failure(
    failures: dict[int, BaseException], seeks: list[int], commits: list[int], dead: list[str]
) -> None:
    handed: list[list[int]] = []

    async def batch(items: Any) -> list[BaseException | None]:
        handed.append([item.record.offset for item in items])
        return [failures.get(item.record.offset) for item in items]

    loop, consumer, letters = _batch_loop(batch)
    await loop._handle_partition(TP, [_record(n, f"i{n}") for n in range(5)])
    assert handed == [[0, 1, 2, 3, 4]]  # together, in their order
    assert (consumer.seeks, consumer.commits, letters.reasons) == (seeks, commits, dead)


async def test_an_undecodable_record_of_a_batch_is_dead_lettered_in_its_place() -> None:
    handed: list[str] = []

    async def batch(items: Any) -> list[BaseException | None]:
        handed.extend(item.event.intent_id for item in items)
        return [StillTransient("later") if item.record.offset == 2 else None for item in items]

    loop, consumer, letters = _batch_loop(batch)
    await loop._handle_partition(TP, [_record(0, "a"), _undecodable(1), _record(2, "b")])
    assert handed == ["a", "b"]
    assert consumer.commits == [2] and consumer.seeks == [2]
    assert len(letters.reasons) == 1 and letters.reasons[0].startswith("DecodeError")


async def test_a_batch_that_raises_a_permanent_error_goes_again_one_at_a_time() -> None:
    async def batch(items: Any) -> list[BaseException | None]:
        raise NeverGood("the batch")

    loop, consumer, letters = _batch_loop(batch)
    await loop._handle_partition(TP, [_record(0, "a"), _record(1, "bad-1"), _record(2, "c")])
    assert (consumer.seeks, consumer.commits, letters.reasons) == ([], [3], ["NeverGood: bad-1"])


async def test_a_batch_that_raises_a_retryable_error_is_read_again_whole() -> None:
    async def batch(items: Any) -> list[BaseException | None]:
        raise StillTransient("database gone")

    loop, consumer, letters = _batch_loop(batch)
    await loop._handle_partition(TP, [_record(3, "a"), _record(4, "b")])
    assert (consumer.seeks, consumer.commits, letters.reasons) == ([3], [], [])


async def test_a_bug_in_a_batch_crashes_the_loop_and_commits_nothing() -> None:
    async def batch(items: Any) -> list[BaseException | None]:
        return [None, KeyError("bug")]

    loop, consumer, _ = _batch_loop(batch)
    with pytest.raises(KeyError):
        await loop._handle_partition(TP, [_record(0, "a"), _record(1, "b")])
    assert consumer.commits == []


async def test_a_batch_is_timed_once_and_its_records_counted_each() -> None:
    async def batch(items: Any) -> list[BaseException | None]:
        return [None, NeverGood("never"), None, StillTransient("later"), None]

    registry = new_registry()
    loop, _, _ = _batch_loop(batch, registry=registry)
    await loop._handle_partition(TP, [_record(n, f"i{n}") for n in range(5)])
    topic = {"topic": DELIVERY.name}
    count = registry.get_sample_value
    assert count("wagate_test_records_processed_total", topic) == 3  # 0, 1 (dead-lettered), 2
    assert count("wagate_test_records_dead_lettered_total", topic | {"reason": "NeverGood"}) == 1
    assert count("wagate_test_records_retried_total", topic) == 1
    assert count("wagate_test_record_handle_seconds_count", topic) == 1


class Offsets(Consumer):
    """The consumer fake, keeping each commit's every partition."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.requests.append(dict(offsets))


def _on(partition: int, offset: int, intent_id: str) -> ConsumerRecord[bytes, bytes]:
    record = _record(offset, intent_id)
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, None, record.value, None, 0, 0, [])


def _side_loop(handler: Any) -> tuple[ConsumeLoop, Offsets]:
    consumer = Offsets()
    loop = ConsumeLoop(
        consumer,  # type: ignore[arg-type]
        "g",
        {TOPIC: Subscription(DELIVERY, DeliveryUpdated, handler)},
        DeadLetters(),  # type: ignore[arg-type]
        ConsumerMetrics.create(new_registry(), "test"),
        max_backoff_s=0.01,
        side_by_side=True,
    )
    return loop, consumer


async def test_side_by_side_the_partitions_of_a_fetch_go_at_once_and_commit_together() -> None:
    first_waits = asyncio.Event()
    order: list[str] = []

    async def handler(event: DeliveryUpdated, _: Any) -> None:
        if event.intent_id == "slow":
            await asyncio.wait_for(first_waits.wait(), 2)  # one after another: never set
        else:
            first_waits.set()
        order.append(event.intent_id)

    loop, consumer = _side_loop(handler)
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    await loop._side_by_side(
        {p0: [_on(0, 4, "slow"), _on(0, 5, "after")], p1: [_on(1, 9, "quick")]}
    )
    assert order == ["quick", "slow", "after"]  # each partition in its order
    assert consumer.requests == [{p0: 6, p1: 10}]  # one commit request for both


async def test_side_by_side_a_partition_that_crashed_does_not_lose_the_others_commit() -> None:
    async def handler(event: DeliveryUpdated, _: Any) -> None:
        if event.intent_id == "bug":
            raise RuntimeError("a bug")

    loop, consumer = _side_loop(handler)
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    with pytest.raises(RuntimeError, match="a bug"):
        await loop._side_by_side({p0: [_on(0, 0, "bug")], p1: [_on(1, 3, "ok"), _on(1, 4, "ok")]})
    assert consumer.requests == [{p1: 5}]


async def test_side_by_side_a_retry_commits_up_to_it_beside_the_others() -> None:
    async def handler(event: DeliveryUpdated, _: Any) -> None:
        if event.intent_id == "later":
            raise StillTransient("not yet")

    loop, consumer = _side_loop(handler)
    p0, p1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    batches = {p0: [_on(0, 0, "ok"), _on(0, 1, "later"), _on(0, 2, "ok")], p1: [_on(1, 7, "ok")]}
    await loop._side_by_side(batches)
    assert consumer.seeks == [1]  # read again from the record that failed
    assert consumer.requests == [{p0: 1, p1: 8}]
