"""Meta's account updates read into dispatch's live account state. The feed reads
`wagate.account.updates.v1` from its beginning at every start, with no consumer group and no
commit, so the state survives a restart without a table of its own: what Meta reported within
the topic's retention (30 days) is applied again, in order, and the registry's values hold for
numbers Meta said nothing about since. A record that is not an account update is logged and
skipped (ingest dead-letters malformed webhooks before they get here)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import codec, logs
from shared.errors import DecodeError
from shared.events.account import AccountUpdateReported
from shared.messaging import connection_options
from shared.settings import KafkaSettings
from shared.topics import ACCOUNT_UPDATES

log = logs.get(__name__)
POLL_MS = 500


async def follow(
    kafka: KafkaSettings,
    apply: Callable[[AccountUpdateReported], None],
    halt: asyncio.Event,
) -> None:
    """Apply every account update, the retained ones first, until `halt` is set."""
    topic = kafka.topic(ACCOUNT_UPDATES.name)
    consumer = AIOKafkaConsumer(
        **connection_options(kafka),
        client_id=f"{kafka.client_id}-dispatch-accounts",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, so the topic's partitions are known
        partitions = sorted(
            consumer.partitions_for_topic(topic) or range(ACCOUNT_UPDATES.partitions)
        )
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        while not halt.is_set():
            batches = await consumer.getmany(timeout_ms=POLL_MS)
            for records in batches.values():
                for record in records:
                    one(record.value, apply)
    finally:
        await consumer.stop()


def one(value: bytes | None, apply: Callable[[AccountUpdateReported], None]) -> bool:
    """Apply one record's update; False (logged) when it is no account update."""
    try:
        update = codec.decode(AccountUpdateReported, value or b"")
    except DecodeError as exc:
        log.warning("an account-updates record is no account update; skipped", reason=str(exc))
        return False
    apply(update)
    return True
