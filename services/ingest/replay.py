"""Re-normalising the raw-webhook journal over a time range (`wagate replay`).

After a parsing fix, replaying a range turns the journaled bodies into events again with the
same deterministic ids: facts already published keep their ids (consumers drop the copies),
fragments that were unparsed before become typed events. The dedupe memory is not consulted,
on purpose: replay exists to publish again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import ConsumerRecord, TopicPartition

from services.ingest.changes import Emit
from services.ingest.normalize import normalize
from services.ingest.verify import parse_body
from shared import codec, logs
from shared.errors import DecodeError
from shared.events.webhooks import WebhookReceived
from shared.messaging import Publisher, make_producer, make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import WEBHOOKS_RAW

log = logs.get(__name__)
_CLOCK_SLACK_MS = 60_000  # record timestamps and received_at differ by the produce latency
_BATCH = 500


@dataclass
class ReplaySummary:
    webhooks: int = 0
    skipped: int = 0
    events: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "webhooks": self.webhooks,
            "skipped": self.skipped,
            "events": sum(self.events.values()),
            "by_topic": dict(sorted(self.events.items())),
        }


def renormalize(journal: WebhookReceived) -> list[Emit] | None:
    """The events of one journaled body, as ingest would build them now (None: not a body)."""
    parsed = parse_body(journal.body.encode())
    if isinstance(parsed, str):
        return None
    normalized = normalize(parsed.payload, journal.event_id, journal.received_at)
    return normalized.to_publish(journal.event_id)


Progress = Callable[[int, int], None]
"""Told (records read, records in range at most) as the journal is read."""


def _quiet(_done: int, _total: int) -> None:
    return None


async def replay(
    settings: KafkaSettings,
    since: datetime,
    until: datetime,
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> ReplaySummary:
    """Re-normalise every journaled webhook received in [since, until) and publish the events."""
    summary = ReplaySummary()
    producer = None if dry_run else make_producer(settings, "replay")
    try:
        if producer is not None:
            await producer.start()
        publisher = Publisher(producer, settings) if producer is not None else None
        pending: list[Emit] = []
        async for record in _journal(settings, since, until, progress):
            emits = _events_of(record, since, until, summary)
            pending.extend(emits)
            if publisher is not None and len(pending) >= _BATCH:
                await publisher.publish_many(pending)
                pending = []
        if publisher is not None and pending:
            await publisher.publish_many(pending)
    finally:
        if producer is not None:
            await producer.stop()
    return summary


def _events_of(
    record: ConsumerRecord[bytes, bytes], since: datetime, until: datetime, summary: ReplaySummary
) -> list[Emit]:
    try:
        journal = codec.decode(WebhookReceived, record.value)
    except DecodeError as exc:
        log.warning("journal record skipped", offset=record.offset, reason=str(exc))
        summary.skipped += 1
        return []
    if not since <= journal.received_at < until:
        return []
    emits = renormalize(journal)
    if emits is None:
        summary.skipped += 1
        return []
    summary.webhooks += 1
    summary.events.update(spec.name for spec, _, _ in emits)
    return emits


async def _journal(
    settings: KafkaSettings, since: datetime, until: datetime, progress: Progress
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """The raw topic's records from `since` (by record time) until `until` or its end."""
    topic = settings.topic(WEBHOOKS_RAW.name)
    consumer = make_reader(settings)
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in await partitions_of(settings, topic)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) - _CLOCK_SLACK_MS for tp in tps}
        )
        open_tps: set[TopicPartition] = set()
        total = done = 0
        for tp in tps:
            found = starts.get(tp)
            if found is not None and found.offset < ends[tp]:
                consumer.seek(tp, found.offset)
                open_tps.add(tp)
                total += ends[tp] - found.offset
        stop_ms = int(until.timestamp() * 1000) + _CLOCK_SLACK_MS
        progress(done, total)
        while open_tps:
            batches = await consumer.getmany(*open_tps, timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if record.timestamp > stop_ms:
                        open_tps.discard(tp)
                        break
                    yield record
                    done += 1
                    progress(done, total)
                    if record.offset + 1 >= ends[tp]:
                        open_tps.discard(tp)
                        break
    finally:
        await consumer.stop()
