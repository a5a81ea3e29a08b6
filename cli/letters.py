"""Reading the dead-letter topic and searching a target topic for redriven copies of dead
letters, for `wagate deadletter` (the rules they feed: `shared.deadletters`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cli.output import Progress
from shared import deadletters
from shared.deadletters import DeadLetter, RedriveRefused, Search
from shared.messaging import make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import BY_NAME, DEAD_LETTERS


async def _records(
    consumer: AIOKafkaConsumer,
    ranges: dict[TopicPartition, tuple[int, int]],
    bar: Progress | None = None,
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
            if bar is not None:
                bar.at(done, total)
        for tp in list(open_tps):
            if await consumer.position(tp) >= ranges[tp][1]:
                open_tps.discard(tp)


async def read_letters(settings: KafkaSettings, since: datetime | None) -> list[DeadLetter]:
    topic = settings.topic(DEAD_LETTERS.name)
    consumer = make_reader(settings)
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in await partitions_of(settings, topic)]
        consumer.assign(tps)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        if since is not None:
            found = await consumer.offsets_for_times(
                {tp: int(since.timestamp() * 1000) for tp in tps}
            )
            starts = {tp: (found[tp].offset if found.get(tp) else ends[tp]) for tp in tps}
        with Progress("dead letters") as bar:
            ranges = {tp: (starts[tp], ends[tp]) for tp in tps}
            return [DeadLetter.of(r) async for r in _records(consumer, ranges, bar)]
    finally:
        await consumer.stop()


async def read_letter(settings: KafkaSettings, partition: int, offset: int) -> DeadLetter:
    topic = settings.topic(DEAD_LETTERS.name)
    consumer = make_reader(settings)
    try:
        await consumer.start()
        if partition not in await partitions_of(settings, topic):
            raise RedriveRefused(f"{topic} has no partition {partition}")
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        first = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        if not first <= offset < end:
            raise RedriveRefused(
                f"no dead letter {partition}:{offset} (it holds {first}..{end - 1})"
            )
        async for record in _records(consumer, {tp: (offset, offset + 1)}):
            return DeadLetter.of(record)
        raise RedriveRefused(f"no dead letter {partition}:{offset} (compacted or a marker)")
    finally:
        await consumer.stop()


def _since(letter: DeadLetter) -> int:
    """From when a redriven copy of `letter` may be on its target (ms)."""
    return max(0, letter.timestamp_ms - deadletters.SLACK_MS)


def _compacted(settings: KafkaSettings, topic: str) -> bool:
    """Whether compaction may delete records of `topic` (unknown topics: assume it may)."""
    spec = BY_NAME.get(topic.removeprefix(settings.topic_prefix))
    return spec is None or spec.compacted


async def search(
    settings: KafkaSettings, letters: Sequence[DeadLetter], override: str | None
) -> dict[str, Search]:
    """For each letter, what its target partitions hold of it (see `shared.deadletters.Search`)."""
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
                out.update(await _search_topic(settings, consumer, topic, group))
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
    with Progress(f"searching {topic}") as bar:
        async for record in _records(consumer, ranges, bar):
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
