"""The dead-letter topic's headers, said once: every consumer that gives up on a record (the
consume loop, policy's agents, dispatch) builds them here, and the CLI reads them by name;
and the one redrive operation that puts a dead letter back on its source topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.errors import PermanentError
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS, DEAD_LETTERS

REASON = "wagate-reason"
SOURCE_TOPIC = "wagate-source-topic"
SOURCE_PARTITION = "wagate-source-partition"
SOURCE_OFFSET = "wagate-source-offset"
CONSUMER_GROUP = "wagate-consumer-group"
INTENT_ID = "wagate-intent-id"
REASON_MAX = 1000  # characters of the reason kept in its header


def headers(
    reason: str,
    group: str,
    *,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    intent_id: str | None = None,
) -> list[tuple[str, bytes]]:
    """The headers of one dead letter: why, who gave up, and where the record came from."""
    out = [(REASON, reason[:REASON_MAX].encode())]
    if topic is not None:
        out.append((SOURCE_TOPIC, topic.encode()))
    if partition is not None:
        out.append((SOURCE_PARTITION, str(partition).encode()))
    if offset is not None:
        out.append((SOURCE_OFFSET, str(offset).encode()))
    if intent_id is not None:
        out.append((INTENT_ID, intent_id.encode()))
    out.append((CONSUMER_GROUP, group.encode()))
    return out


REDRIVEN_FROM = "wagate-redriven-from"
"""Set on a redriven record: the dead letter it came from (`topic:partition:offset`)."""
_DEAD_LETTER_HEADERS = frozenset(
    {REASON, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, CONSUMER_GROUP, INTENT_ID}
)


class DeadLetter(Protocol):
    """The parts of a dead-letter record a redrive needs (aiokafka's ConsumerRecord has them)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class Producer(Protocol):
    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> object: ...


class RedriveRefused(PermanentError, ValueError):
    """A dead letter that cannot go back: no source topic, or one that is not wagate's."""


def header(record: DeadLetter, name: str) -> str | None:
    """The first header called `name`, decoded (None when absent)."""
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


def redrive_target(settings: KafkaSettings, record: DeadLetter) -> str:
    """The topic a dead letter goes back to: its source, when that is one of wagate's topics
    under these settings' prefix (never the dead-letter topic itself)."""
    source = header(record, SOURCE_TOPIC)
    if not source:
        raise RedriveRefused(
            f"dead letter {record.partition}:{record.offset} names no {SOURCE_TOPIC}: "
            "it was not a record some consumer gave up on, so it has nowhere to go back to"
        )
    known = {settings.topic(spec.name) for spec in ALL_TOPICS if spec is not DEAD_LETTERS}
    if source not in known:
        raise RedriveRefused(f"{source} is not one of wagate's topics here; not redriven")
    return source


async def redrive(producer: Producer, settings: KafkaSettings, record: DeadLetter) -> None:
    """Produce a dead letter's record again to its source topic, with its key and its own
    headers (the dead-letter ones dropped) plus `wagate-redriven-from`."""
    target = redrive_target(settings, record)
    kept = [(k, v) for k, v in record.headers or () if k not in _DEAD_LETTER_HEADERS]
    origin = f"{record.topic}:{record.partition}:{record.offset}".encode()
    kept = [(k, v) for k, v in kept if k != REDRIVEN_FROM] + [(REDRIVEN_FROM, origin)]
    await producer.send_and_wait(target, record.value, key=record.key, headers=kept)
