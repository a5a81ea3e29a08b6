"""Reading the dead-letter topic, and searching a target topic for redriven copies of dead
letters with a progress bar, for `wagate deadletter` (the search itself:
`shared.letter_search`; the rules it feeds: `shared.deadletters`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiokafka import TopicPartition

from cli.output import Progress
from shared import letter_search
from shared.deadletters import DeadLetter, RedriveRefused, Search
from shared.letter_search import records
from shared.messaging import make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS


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
            return [DeadLetter.of(r) async for r in records(consumer, ranges, bar)]
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
        async for record in records(consumer, {tp: (offset, offset + 1)}):
            return DeadLetter.of(record)
        raise RedriveRefused(f"no dead letter {partition}:{offset} (compacted or a marker)")
    finally:
        await consumer.stop()


async def search(
    settings: KafkaSettings, letters: Sequence[DeadLetter], override: str | None
) -> dict[str, Search]:
    """`shared.letter_search.search`, with a progress bar on a terminal."""
    return await letter_search.search(settings, letters, override, Progress)
