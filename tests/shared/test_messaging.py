"""The consume loop branches on an error's `retryable` attribute, whatever its class."""

from __future__ import annotations

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
