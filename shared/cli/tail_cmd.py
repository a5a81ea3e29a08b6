"""`wagate tail TOPIC`: print a topic's events as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json

import click
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.messaging import partitions_of
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
@click.pass_obj
def tail(
    settings: KafkaSettings, topic: str, from_beginning: bool, max_events: int, timeout_s: float
) -> None:
    """Print TOPIC's events as JSON lines (TOPIC: a full name or e.g. delivery, decisions)."""
    from shared.cli.main import run_async

    name = settings.topic(resolve(topic))
    with contextlib.suppress(KeyboardInterrupt):
        run_async(_tail(settings, name, from_beginning, max_events, timeout_s))


async def _tail(
    settings: KafkaSettings, topic: str, from_beginning: bool, max_events: int, timeout_s: float
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=None, enable_auto_commit=False
    )
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
                await _print(consumer, max_events)
    finally:
        await consumer.stop()


async def _print(consumer: AIOKafkaConsumer, max_events: int) -> None:
    count = 0
    async for record in consumer:
        try:
            value = json.loads(record.value)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
            value = {"undecodable": repr(record.value)[:200]}
        click.echo(json.dumps(value), nl=True)
        count += 1
        if max_events and count >= max_events:
            return
