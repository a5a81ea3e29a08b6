"""`wagate tail TOPIC`: print a topic's events as they arrive, optionally filtered, with each
record's key, partition, offset and headers on request (`--headers`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cli.config import pass_kafka
from cli.output import as_json, cell, echo_json, run_async
from cli.params import Seconds, pairs
from shared.messaging import make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS, BY_NAME

SHORT = {spec.name.removeprefix("wagate.").rsplit(".v", 1)[0]: spec.name for spec in ALL_TOPICS}


def resolve(name: str) -> str:
    if name in BY_NAME:
        return name
    if name in SHORT:
        return SHORT[name]
    known = ", ".join(sorted(SHORT))
    raise click.BadParameter(f"unknown topic {name!r}; known: {known}")


def parse_filters(filters: tuple[str, ...]) -> dict[str, str]:
    return pairs(filters, "FIELD=VALUE", "--where")


@dataclass(frozen=True)
class Match:
    """Which records `tail` prints: by key, and by fields (dotted paths) equal to values."""

    fields: dict[str, str]
    key: str | None = None

    def __call__(self, key: bytes | None, value: Any) -> bool:
        if self.key is not None and (key or b"").decode(errors="replace") != self.key:
            return False
        return all(_lookup(value, path) == want for path, want in self.fields.items())


def _lookup(value: Any, path: str) -> str | None:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) else json.dumps(value)


@click.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest retained event.")
@click.option(
    "--max", "max_events", type=click.IntRange(min=0), default=0, help="Stop after this many."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=Seconds(),
    default=0,
    help="Stop after this many seconds (0: follow until Ctrl-C).",
)
@click.option(
    "--where",
    "filters",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Only events whose FIELD (dotted for nested fields, e.g. intent.intent_id or "
    "metadata.order) equals VALUE; repeatable, all must hold.",
)
@click.option("--key", default=None, help="Only records with this key (e.g. PNID:WA_ID).")
@click.option(
    "--headers",
    "with_headers",
    is_flag=True,
    help="Print each record's key, partition, offset, time and headers with its event.",
)
@pass_kafka
def tail(
    settings: KafkaSettings,
    topic: str,
    from_beginning: bool,
    max_events: int,
    timeout_s: float,
    filters: tuple[str, ...],
    key: str | None,
    with_headers: bool,
) -> None:
    """Print TOPIC's events as they arrive (TOPIC: a full name or e.g. delivery, decisions).

    JSON lines: the event alone, or with --headers {"key", "partition", "offset",
    "timestamp", "headers", "value"}.
    """
    name = settings.topic(resolve(topic))
    wanted = Match(parse_filters(filters), key)
    shown = Shown(with_headers)
    with contextlib.suppress(KeyboardInterrupt):
        run_async(_tail(settings, name, from_beginning, max_events, timeout_s, wanted, shown))


async def _tail(
    settings: KafkaSettings,
    topic: str,
    from_beginning: bool,
    max_events: int,
    timeout_s: float,
    wanted: Match,
    shown: Shown,
) -> None:
    consumer = make_reader(settings)
    try:
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in await partitions_of(settings, topic)]
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s or None):
                await _print(consumer, max_events, wanted, shown)
    finally:
        await consumer.stop()


async def _print(consumer: AIOKafkaConsumer, max_events: int, wanted: Match, shown: Shown) -> None:
    count = 0
    async for record in consumer:
        value = decoded(record.value)
        if not wanted(record.key, value):
            continue
        shown(record, value)
        count += 1
        if max_events and count >= max_events:
            return


def decoded(raw: bytes | None) -> Any:
    """A record's value as JSON, or what it holds when it is not JSON."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return {"undecodable": repr(raw)[:200]}


def text(raw: bytes | None) -> str | None:
    """Key or header bytes as text (bytes that are not UTF-8 shown as escapes)."""
    return None if raw is None else raw.decode("utf-8", errors="backslashreplace")


def headers_of(
    headers: Sequence[tuple[str, bytes]] | None,
) -> dict[str, str | list[str] | None]:
    """A record's headers by name; a name given more than once maps to every value."""
    out: dict[str, str | list[str] | None] = {}
    for name, raw in headers or ():
        value = text(raw)
        if name in out:
            before = out[name]
            out[name] = [*(before if isinstance(before, list) else [str(before)]), str(value)]
        else:
            out[name] = value
    return out


def placed(record: ConsumerRecord[bytes, bytes], value: Any) -> dict[str, Any]:
    """The record around its value: key, partition, offset, time (UTC) and headers."""
    return {
        "key": text(record.key),
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        "headers": headers_of(record.headers),
        "value": value,
    }


@dataclass(frozen=True)
class Shown:
    """How `tail` prints a record: JSON lines (the value, or with --headers the placed
    record), or for a person `partition:offset  key  value` and the headers below."""

    with_headers: bool

    def __call__(self, record: ConsumerRecord[bytes, bytes], value: Any) -> None:
        if as_json():
            echo_json(placed(record, value) if self.with_headers else value)
            return
        compact = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        if not self.with_headers:
            click.echo(cell(compact, limit=None))
            return
        where = f"{record.partition}:{record.offset}"
        click.echo(cell(f"{where}  {text(record.key) or '-'}  {compact}", limit=None))
        for name, header in headers_of(record.headers).items():
            click.echo(cell(f"    {name}: {header}", limit=None))
