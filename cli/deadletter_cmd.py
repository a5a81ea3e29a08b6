"""`wagate deadletter list | show | redrive`: read the dead-letter topic, and put a dead letter
back on its source topic with its key and headers, never twice without saying so (the rules:
`cli.redrive`)."""

from __future__ import annotations

import getpass
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cli import redrive
from cli.config import pass_kafka
from cli.output import EXIT_FAILED, Progress, run_async, show, show_rows
from cli.params import Instant
from cli.redrive import DeadLetter, RedriveRefused, Search
from cli.tail_cmd import decoded, headers_of, resolve
from shared.messaging import make_producer, make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import BY_NAME, DEAD_LETTERS

T = TypeVar("T")
COLUMNS = ("id", "written_at", "source_topic", "consumer_group", "reason", "state")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run Kafka work; a dead letter or topic that is not there exits 1."""
    try:
        return run_async(coro)
    except (RedriveRefused, LookupError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a container)
        return "unknown"


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key=record.key,
        value=record.value,
        headers=tuple(record.headers or ()),
    )


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
        for tp, records in batches.items():
            for record in records:
                if record.offset < ranges[tp][1]:
                    yield record
            done += len(records)
            if bar is not None:
                bar.at(done, total)
        for tp in list(open_tps):
            if await consumer.position(tp) >= ranges[tp][1]:
                open_tps.discard(tp)


async def _read_letters(settings: KafkaSettings, since: datetime | None) -> list[DeadLetter]:
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
            return [_letter(r) async for r in _records(consumer, ranges, bar)]
    finally:
        await consumer.stop()


async def _read_letter(settings: KafkaSettings, partition: int, offset: int) -> DeadLetter:
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
            return _letter(record)
        raise RedriveRefused(f"no dead letter {partition}:{offset} (compacted or a marker)")
    finally:
        await consumer.stop()


def _compacted(settings: KafkaSettings, topic: str) -> bool:
    """Whether compaction may delete records of `topic` (unknown topics: assume it may)."""
    spec = BY_NAME.get(topic.removeprefix(settings.topic_prefix))
    return spec is None or spec.compacted


async def _search(
    settings: KafkaSettings, letters: Sequence[DeadLetter], override: str | None
) -> dict[str, Search]:
    """For each letter, what its target partitions hold of it (see `cli.redrive.Search`)."""
    by_topic: dict[str, list[DeadLetter]] = defaultdict(list)
    for letter in letters:
        with_target = _target_or_none(letter, override)
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


def _target_or_none(letter: DeadLetter, override: str | None) -> str | None:
    try:
        return redrive.target(letter, override)[0]
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
    retained: dict[str, bool] = {}
    starts = dict(ends)
    for letter in letters:
        since = max(0, letter.timestamp_ms - redrive.SLACK_MS)
        found = await consumer.offsets_for_times({tp: since for tp in tps})
        offsets = {tp: (found[tp].offset if found.get(tp) else None) for tp in tps}
        retained[letter.ref] = all(
            redrive.retained_since(beginnings[tp], offsets[tp], ends[tp]) for tp in tps
        )
        for tp in tps:
            starts[tp] = min(starts[tp], ends[tp] if offsets[tp] is None else offsets[tp])
    copies: dict[str, list[tuple[int, int]]] = defaultdict(list)
    replaced: set[str] = set()
    by_key = {letter.key: letter for letter in letters if letter.key is not None}
    compacted = _compacted(settings, topic)
    ranges = {tp: (starts[tp], ends[tp]) for tp in tps}
    with Progress(f"searching {topic}") as bar:
        async for record in _records(consumer, ranges, bar):
            names = [v for k, v in record.headers or () if k == redrive.REDRIVE_OF]
            for name in names:
                copies[name.decode(errors="replace")].append((record.partition, record.offset))
            same = by_key.get(record.key) if compacted and not names else None
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


async def _listed(
    settings: KafkaSettings, since: datetime | None, with_state: bool
) -> list[dict[str, Any]]:
    letters = await _read_letters(settings, since)
    found = await _search(settings, letters, None) if with_state else {}
    rows = []
    for letter in letters:
        row: dict[str, Any] = letter.summary()
        search = found.get(letter.ref)
        row["state"] = search.state if search else ("unknown" if with_state else None)
        rows.append(row)
    return rows


@click.group()
def deadletter() -> None:
    """Dead letters: list them, show one, redrive them to their source topics."""


@deadletter.command("list")
@click.option("--source", help="Only those from this topic (a full name or e.g. intents).")
@click.option("--group", "consumer_group", help="Only those this consumer group gave up on.")
@click.option("--since", type=Instant(), help="Only those written since (ISO 8601, UTC default).")
@click.option(
    "--no-state",
    is_flag=True,
    help="Do not search the source topics for redriven copies (faster; state left empty).",
)
@pass_kafka
def list_letters(
    settings: KafkaSettings,
    source: str | None,
    consumer_group: str | None,
    since: datetime | None,
    no_state: bool,
) -> None:
    """Every dead letter, oldest first per partition, with whether it was redriven."""
    wanted = settings.topic(resolve(source)) if source else None
    rows = _run(_listed(settings, since, not no_state))
    rows = [
        r
        for r in rows
        if (wanted is None or r["source_topic"] == wanted)
        and (consumer_group is None or r["consumer_group"] == consumer_group)
    ]
    show_rows(rows, COLUMNS)


def _letter_id(_: click.Context, param: click.Parameter, value: Any) -> Any:
    try:
        if isinstance(value, tuple):
            return tuple(redrive.parse_id(v) for v in value)
        return redrive.parse_id(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


async def _shown(settings: KafkaSettings, partition: int, offset: int) -> dict[str, Any]:
    letter = await _read_letter(settings, partition, offset)
    search = (await _search(settings, [letter], None)).get(letter.ref)
    return {
        **letter.summary(),
        "state": search.state if search else "unknown",
        "redriven_to": [f"{p}:{o}" for p, o in search.copies] if search else [],
        "headers": headers_of(letter.headers),
        "value": decoded(letter.value),
    }


@deadletter.command("show")
@click.argument("letter_id", metavar="PARTITION:OFFSET", callback=_letter_id)
@pass_kafka
def show_letter(settings: KafkaSettings, letter_id: tuple[int, int]) -> None:
    """One dead letter: why, from where, its headers and value, and where it was redriven."""
    show(_run(_shown(settings, *letter_id)))


async def _redrive_one(
    settings: KafkaSettings, letter_id: tuple[int, int], options: dict[str, Any]
) -> dict[str, Any]:
    letter = await _read_letter(settings, *letter_id)
    topic, partition = redrive.target(letter, options["to"])
    search = (await _search(settings, [letter], options["to"])).get(letter.ref)
    if search is None:
        raise RedriveRefused(f"topic {topic} does not exist")
    why = redrive.refusal(letter, search, options["again"])
    if why:
        raise RedriveRefused(why)
    at = datetime.now(UTC)
    row: dict[str, Any] = {
        "id": letter.id,
        "topic": topic,
        "by": options["by"],
        "at": at.isoformat(),
    }
    if options["dry_run"]:
        return {**row, "redriven": False, "dry_run": True, "partition": partition}
    producer = make_producer(settings, "redrive")
    try:
        await producer.start()
        sent = await producer.send_and_wait(
            topic,
            letter.value,
            key=letter.key,
            partition=partition,
            headers=redrive.redrive_headers(letter, options["by"], at),
        )
    finally:
        await producer.stop()
    row.update(redriven=True, partition=sent.partition, offset=sent.offset)
    after = (await _search(settings, [letter], options["to"])).get(letter.ref, Search())
    earlier = redrive.earlier_copies(after, (sent.partition, sent.offset))
    if earlier and not options["again"]:
        row["error"] = f"another redrive of {letter.id} landed first at " + ", ".join(
            f"{p}:{o}" for p, o in earlier
        )
    return row


@deadletter.command("redrive")
@click.argument(
    "letter_ids", metavar="PARTITION:OFFSET...", nargs=-1, required=True, callback=_letter_id
)
@click.option("--to", "to_topic", help="Redrive to this topic instead of the source topic.")
@click.option(
    "--by", default=_operator, help="Who redrives (a header on the record; default: you)."
)
@click.option("--again", is_flag=True, help="Redrive even if it was redriven, or cannot be told.")
@click.option("--dry-run", is_flag=True, help="Check and say what would be done; produce nothing.")
@pass_kafka
def redrive_letters(
    settings: KafkaSettings,
    letter_ids: tuple[tuple[int, int], ...],
    to_topic: str | None,
    by: str,
    again: bool,
    dry_run: bool,
) -> None:
    """Produce each dead letter again to its source topic and partition, with its key and
    original headers plus wagate-redrive-of, -redriven-by and -redriven-at; one already
    redriven is refused (exit 1) unless --again."""
    options = {
        "to": settings.topic(resolve(to_topic)) if to_topic else None,
        "by": by,
        "again": again,
        "dry_run": dry_run,
    }
    rows = []
    for letter_id in letter_ids:
        try:
            rows.append(run_async(_redrive_one(settings, letter_id, options)))
        except (RedriveRefused, LookupError) as exc:
            failed = {"redriven": False, "error": str(exc).strip("'\"")}
            rows.append({"id": "{}:{}".format(*letter_id), **failed})
    show_rows(rows, ("id", "redriven", "topic", "partition", "offset", "by", "error"))
    if any(row.get("error") for row in rows):
        raise SystemExit(EXIT_FAILED)
