"""Consumer lag after a chaos run: for each consumer group of the wired system, the records
of its input topics not committed yet (the end offset of each partition minus the group's
committed offset), read with Kafka's admin API."""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from tests.e2e.conftest import System

GROUPS = {  # the setting naming each group, and what the table calls it
    "POLICY_APP_ID": "policy",
    "DISPATCH_GROUP": "dispatch",
    "DISPATCH_MEDIA__INBOUND_GROUP": "dispatch media",
    "TEMPLATES_GROUP": "templates",
}


def lag(committed: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]) -> int:
    """Records behind: each partition's end offset minus what the group committed."""
    return sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())


async def group_lags(system: System, prefix: str) -> dict[str, int]:
    """Each of the system's consumer groups, its lag over the partitions it committed on
    of the topics named with `prefix`."""
    groups = {name: system.env[key] for key, name in GROUPS.items() if key in system.env}
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka.bootstrap)
    await admin.start()
    try:
        offsets = {n: await admin.list_consumer_group_offsets(g) for n, g in groups.items()}
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        out = {}
        for group, found in offsets.items():
            mine = [tp for tp in found if tp.topic.startswith(prefix)]
            ends = await consumer.end_offsets(mine)
            out[group] = lag({tp: o.offset for tp, o in found.items()}, ends)
        return out
    finally:
        await consumer.stop()
