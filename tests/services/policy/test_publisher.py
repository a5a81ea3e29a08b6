"""A decision handed to faust's producer as `Topic.send` hands it (the topic's name, the raw key
and value, no partition, no headers), a send that fails in the end logged as a warning, and
each record placed where aiokafka's default partitioner places it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from structlog.testing import capture_logs

from services.policy.publisher import KeptHash, Publisher


class Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []
        self.answers: list[asyncio.Future[Any]] = []

    async def send(self, *record: Any) -> asyncio.Future[Any]:
        self.sent.append(record)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.answers.append(answer)
        return answer


class App:
    def __init__(self, in_transaction: bool = False) -> None:
        self.producer = Producer()
        self.started = 0
        self.in_transaction = in_transaction

    async def maybe_start_producer(self) -> Producer:
        self.started += 1
        return self.producer


class Topic:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def get_topic_name(self) -> str:
        return "x.wagate.decisions.v1"

    async def send(self, **record: Any) -> None:
        self.sent.append(record)


async def test_each_record_goes_to_faust_s_producer_as_topic_send_hands_it() -> None:
    app = App()
    publish = Publisher(app, Topic())
    await publish("106540352242922:16505551234", b"{}")
    await publish("106540352242922:16505550000", b"[]")
    assert app.producer.sent == [
        ("x.wagate.decisions.v1", b"106540352242922:16505551234", b"{}", None, None, []),
        ("x.wagate.decisions.v1", b"106540352242922:16505550000", b"[]", None, None, []),
    ]
    assert app.started == 1  # the producer faust started, asked for once


async def test_under_transactions_a_record_goes_by_topic_send_to_join_its_input_s() -> None:
    app, topic = App(in_transaction=True), Topic()
    await Publisher(app, topic)("106540352242922:16505551234", b"{}")
    assert topic.sent == [{"key": b"106540352242922:16505551234", "value": b"{}"}]
    assert app.producer.sent == [] and app.started == 0


async def test_a_send_that_fails_is_logged_and_one_that_succeeds_or_is_cancelled_is_not() -> None:
    app = App()
    publish = Publisher(app, Topic())
    for _ in range(3):
        await publish("k", b"v")
    done, failed, cancelled = app.producer.answers
    with capture_logs() as logged:
        done.set_result(object())
        failed.set_exception(ConnectionError("broker gone"))
        cancelled.cancel()
        await asyncio.sleep(0)  # the callbacks run
    assert logged == [
        {
            "event": "sending a record failed",
            "topic": "x.wagate.decisions.v1",
            "error": "ConnectionError('broker gone')",
            "log_level": "warning",
        }
    ]


@pytest.mark.parametrize("partitions", [[0], list(range(12)), list(range(7)), [3, 5, 8, 13]])
def test_each_key_goes_where_aiokafka_s_default_partitioner_sends_it(partitions: list[int]) -> None:
    kept, default = KeptHash(keep=50), DefaultPartitioner()
    keys = [f"106540352242922:1650{n:07d}".encode() for n in range(200)] + [b"", b"\xff" * 40]
    for _ in range(2):  # the second time from the hashes kept (past the bound: some afresh)
        for key in keys:
            assert kept(key, partitions, partitions) == default(key, partitions, partitions)
    assert len(kept._hashes) <= 50


def test_a_record_without_a_key_goes_to_an_available_partition_or_any() -> None:
    kept = KeptHash()
    assert {kept(None, [0, 1, 2], [2]) for _ in range(20)} == {2}
    assert {kept(None, [0, 1, 2], []) for _ in range(50)} <= {0, 1, 2}
    assert kept._hashes == {}
