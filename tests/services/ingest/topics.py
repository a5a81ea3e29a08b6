"""Reading back what ingest published, from the beginning of this test's own topics."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.messaging import partitions_of
from shared.settings import KafkaSettings
from shared.topics import TopicSpec


async def _partitions(settings: KafkaSettings, topic: str) -> list[int]:
    """The topic's partitions, waiting out a freshly created topic without leaders yet."""
    for _ in range(50):
        try:
            return await partitions_of(settings, topic)
        except LookupError:
            await asyncio.sleep(0.2)
    return await partitions_of(settings, topic)


async def read_all(settings: KafkaSettings, spec: TopicSpec) -> list[dict[str, Any]]:
    """Every record of `spec`'s topic, decoded as JSON, with its key under `_key`."""
    topic = settings.topic(spec.name)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(settings, topic)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[dict[str, Any]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                for r in batch:
                    records.append({**json.loads(r.value), "_key": (r.key or b"").decode()})
        return records
    finally:
        await consumer.stop()


async def records_eventually(
    settings: KafkaSettings, spec: TopicSpec, count: int, explain: Callable[[], str]
) -> list[dict[str, Any]]:
    """`spec`'s records once there are at least `count` (within a minute), else fail the test
    with `explain()` (a service's log, say)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = await read_all(settings, spec)
        if len(records) >= count:
            return records
        await asyncio.sleep(0.3)
    pytest.fail(f"{spec.name} never had {count} records:\n{explain()}")
