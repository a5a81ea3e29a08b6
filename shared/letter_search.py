"""Reading Kafka for redrives: the records of a range of partitions, and the search of a
target topic for the copies of dead letters already redriven there (what
`shared.deadletters.refusal` judges). The CLI and the console search the same way, so a
redrive made by either is seen by both."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared import deadletters
from shared.deadletters import DeadLetter, RedriveRefused, Search
from shared.messaging import make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import BY_NAME


class Meter(Protocol):
    """Told how far a long read is (the CLI's progress bar)."""

    def at(self, done: int, total: int) -> None: ...


Meters = Callable[[str], AbstractContextManager[Meter | None]]


def _no_meter(_: str) -> AbstractContextManager[Meter | None]:
    return nullcontext()


async def records(
    consumer: AIOKafkaConsumer,
    ranges: dict[TopicPartition, tuple[int, int]],
    meter: Meter | None = None,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record in [start, end) of each partition (offsets may have gaps)."""
    total = sum(max(0, end - start) for start, end in ranges.values())
    done = 0
    open_tps = {tp for tp, (start, end) in ranges.items() if start < end}
    for tp in open_tps:
        consumer.seek(tp, ranges[tp][0])
    while open_tps:
        batches = await consumer.getmany(*open_tps, timeout_ms=1000)
        for tp, batch in batches.items():
            for record in batch:
                if record.offset < ranges[tp][1]:
                    yield record
            done += len(batch)
            if meter is not None:
                meter.at(done, total)
        for tp in list(open_tps):
            if await consumer.position(tp) >= ranges[tp][1]:
                open_tps.discard(tp)


def _since(letter: DeadLetter) -> int:
    """From when a redriven copy of `letter` may be on its target (ms)."""
    return max(0, letter.timestamp_ms - deadletters.SLACK_MS)


def _compacted(settings: KafkaSettings, topic: str) -> bool:
    """Whether compaction may delete records of `topic` (unknown topics: assume it may)."""
    spec = BY_NAME.get(topic.removeprefix(settings.topic_prefix))
    return spec is None or spec.compacted


async def search(
    settings: KafkaSettings,
    letters: Sequence[DeadLetter],
    override: str | None,
    meters: Meters = _no_meter,
) -> dict[str, Search]:
    """For each letter, what its target partitions hold of it (see `shared.deadletters.Search`);
    a letter whose target topic does not exist is left out."""
    by_topic: dict[str, list[DeadLetter]] = defaultdict(list)
    for letter in letters:
        with_target = _target(letter, override)
        if with_target is not None:
            by_topic[with_target].append(letter)
    out: dict[str, Search] = {}
    consumer = make_reader(settings)
    try:
        await consumer.start()
        for topic, group in by_topic.items():
            try:
                out.update(await _search_topic(settings, consumer, topic, group, meters))
            except LookupError:  # the target topic does not exist: nothing can be told
                continue
    finally:
        await consumer.stop()
    return out


def _target(letter: DeadLetter, override: str | None) -> str | None:
    try:
        return deadletters.target(letter, override)[0]
    except RedriveRefused:
        return None


async def _search_topic(
    settings: KafkaSettings,
    consumer: AIOKafkaConsumer,
    topic: str,
    letters: Sequence[DeadLetter],
    meters: Meters,
) -> dict[str, Search]:
    tps = [TopicPartition(topic, p) for p in await partitions_of(settings, topic)]
    consumer.assign(tps)
    beginnings = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    starts = dict(ends)
    moments = sorted({_since(letter) for letter in letters})
    if not any(beginnings.values()):
        moments = moments[:1]  # nothing was ever deleted: only where the search starts matters
    kept_at: dict[int, bool] = {}
    for since in moments:
        found = await consumer.offsets_for_times({tp: since for tp in tps})
        offsets = {tp: (found[tp].offset if found.get(tp) else None) for tp in tps}
        kept_at[since] = all(
            deadletters.retained_since(beginnings[tp], offsets[tp], ends[tp]) for tp in tps
        )
        for tp in tps:
            starts[tp] = min(starts[tp], ends[tp] if offsets[tp] is None else offsets[tp])
    retained = {letter.ref: kept_at.get(_since(letter), True) for letter in letters}
    copies: dict[str, list[tuple[int, int]]] = defaultdict(list)
    replaced: set[str] = set()
    by_key = {letter.key: letter for letter in letters if letter.key is not None}
    is_compacted = _compacted(settings, topic)
    ranges = {tp: (starts[tp], ends[tp]) for tp in tps}
    with meters(f"searching {topic}") as meter:
        async for record in records(consumer, ranges, meter):
            names = [v for k, v in record.headers or () if k == deadletters.REDRIVE_OF]
            for name in names:
                copies[name.decode(errors="replace")].append((record.partition, record.offset))
            same = by_key.get(record.key) if is_compacted and not names else None
            if same is not None and record.timestamp >= same.timestamp_ms:
                replaced.add(same.ref)
    return {
        letter.ref: Search(
            copies=tuple(copies.get(letter.ref, ())),
            retained=retained[letter.ref],
            replaced=letter.ref in replaced,
        )
        for letter in letters
    }
