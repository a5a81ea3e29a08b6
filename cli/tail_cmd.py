"""`wagate tail TOPIC`: print a topic's events as JSON lines, optionally filtered."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import click
from aiokafka import AIOKafkaConsumer, TopicPartition

from cli.output import echo_json, run_async
from cli.params import pairs
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
@click.option("--max", "max_events", type=int, default=0, help="Stop after this many events.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
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
@click.pass_obj
def tail(
    settings: KafkaSettings,
    topic: str,
    from_beginning: bool,
    max_events: int,
    timeout_s: float,
    filters: tuple[str, ...],
    key: str | None,
) -> None:
    """Print TOPIC's events as JSON lines (TOPIC: a full name or e.g. delivery, decisions)."""
    name = settings.topic(resolve(topic))
    wanted = Match(parse_filters(filters), key)
    with contextlib.suppress(KeyboardInterrupt):
        run_async(_tail(settings, name, from_beginning, max_events, timeout_s, wanted))


async def _tail(
    settings: KafkaSettings,
    topic: str,
    from_beginning: bool,
    max_events: int,
    timeout_s: float,
    wanted: Match,
) -> None:
    consumer = make_reader(settings)
    await consumer.start()
    try:
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
                await _print(consumer, max_events, wanted)
    finally:
        await consumer.stop()


async def _print(consumer: AIOKafkaConsumer, max_events: int, wanted: Match) -> None:
    count = 0
    async for record in consumer:
        try:
            value = json.loads(record.value)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
            value = {"undecodable": repr(record.value)[:200]}
        if not wanted(record.key, value):
            continue
        echo_json(value)
        count += 1
        if max_events and count >= max_events:
            return
