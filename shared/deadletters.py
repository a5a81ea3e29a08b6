"""The dead-letter topic's headers and the one redrive, said once: every consumer that gives up
on a record (the consume loop, policy's agents, dispatch) builds the headers here, and the
CLI's `wagate deadletter redrive` and the console's redrive both put a dead letter back here.

A redriven record is the dead letter's value and key, produced to its source topic (and source
partition) with the headers it had beside the dead-letter ones, plus three headers saying
which dead letter it is, who redrove it and when. Those headers are the only record of a
redrive that every reader shares: before redriving, the CLI searches the source partition for
a record naming the same dead letter, and when the partition may no longer hold one (retention
deleted records since the dead letter, or compaction may have replaced it) the redrive is
refused unless asked again (`Search`, `refusal`). The rules are pure; reading and producing
are the callers'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

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
REDRIVE_OF = "wagate-redrive-of"
"""`<dead-letter topic>:<partition>:<offset>` of the dead letter a record was redriven from."""
REDRIVEN_BY = "wagate-redriven-by"
REDRIVEN_AT = "wagate-redriven-at"
DEAD_LETTER_HEADERS = frozenset(
    {REASON, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, CONSUMER_GROUP, INTENT_ID}
    | {REDRIVE_OF, REDRIVEN_BY, REDRIVEN_AT}
)
"""Headers about a failure or an earlier redrive, never carried back to the source topic."""
SLACK_MS = 60_000  # producer clocks differ: look for redrives from a minute before the letter

State = Literal["redriven", "not redriven", "unknown"]


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


class RedriveRefused(PermanentError, ValueError):
    """A dead letter that cannot (or must not silently) be redriven, and why."""


class Record(Protocol):
    """The parts of a Kafka record a dead letter is read from (aiokafka's ConsumerRecord)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
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
    ) -> Sent: ...


class Sent(Protocol):
    """Where a produced record landed (aiokafka's RecordMetadata)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, record: Record) -> DeadLetter:
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp,
            record.key,
            record.value,
            tuple(record.headers or ()),
        )

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def ref(self) -> str:
        """What the redriven record's REDRIVE_OF header says."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key == name]
        return _text(found[-1]) if found else None

    def _number(self, name: str) -> int | None:
        value = self.header(name)
        return int(value) if value is not None and value.isascii() and value.isdigit() else None

    @property
    def source_topic(self) -> str | None:
        return self.header(SOURCE_TOPIC) or None

    @property
    def source_partition(self) -> int | None:
        return self._number(SOURCE_PARTITION)

    @property
    def written_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had before it was dead-lettered."""
        return [(k, v) for k, v in self.headers if k not in DEAD_LETTER_HEADERS]

    def summary(self) -> dict[str, object]:
        """What a listing of dead letters shows of it."""
        return {
            "id": self.id,
            "written_at": self.written_at.isoformat(),
            "source_topic": self.source_topic,
            "source_partition": self.source_partition,
            "source_offset": self._number(SOURCE_OFFSET),
            "consumer_group": self.header(CONSUMER_GROUP),
            "intent_id": self.header(INTENT_ID),
            "reason": self.header(REASON),
            "key": _text(self.key),
        }


def target(letter: DeadLetter, override: str | None = None) -> tuple[str, int | None]:
    """The topic (and partition, when it is the source's) the letter goes back to."""
    topic = override or letter.source_topic
    if topic is None:
        raise RedriveRefused(
            f"dead letter {letter.id} names no source topic ({SOURCE_TOPIC}): it was not a "
            "record some consumer gave up on; name the topic to redrive it to (--to TOPIC)"
        )
    partition = letter.source_partition if topic == letter.source_topic else None
    return topic, partition


def redrive_target(
    settings: KafkaSettings, letter: DeadLetter, override: str | None = None
) -> tuple[str, int | None]:
    """`target`, when it is one of wagate's topics under these settings' prefix (never the
    dead-letter topic itself)."""
    topic, partition = target(letter, override)
    known = {settings.topic(spec.name) for spec in ALL_TOPICS if spec is not DEAD_LETTERS}
    if topic not in known:
        raise RedriveRefused(f"{topic} is not one of wagate's topics here; not redriven")
    return topic, partition


def redrive_headers(letter: DeadLetter, by: str, at: datetime) -> list[tuple[str, bytes]]:
    """The redriven record's headers: its original ones, then which dead letter, who, when."""
    return [
        *letter.original_headers(),
        (REDRIVE_OF, letter.ref.encode()),
        (REDRIVEN_BY, by.encode()),
        (REDRIVEN_AT, at.astimezone(UTC).isoformat().encode()),
    ]


async def redrive(
    producer: Producer,
    settings: KafkaSettings,
    letter: DeadLetter,
    by: str,
    at: datetime,
    override: str | None = None,
) -> tuple[str, Sent]:
    """Produce the letter again to its target (`redrive_target`) with `redrive_headers`;
    returns the topic and where the record landed."""
    topic, partition = redrive_target(settings, letter, override)
    sent = await producer.send_and_wait(
        topic,
        letter.value,
        key=letter.key,
        partition=partition,
        headers=redrive_headers(letter, by, at),
    )
    return topic, sent


def retained_since(beginning: int, found: int | None, end: int) -> bool:
    """Whether a partition still holds every record written since a moment: `found` is the
    first offset at or after it (None: no record is), `beginning` and `end` its bounds.

    Retention deletes the oldest records first, so a record kept from before the moment, or
    a partition that never lost a record, proves nothing since was deleted.
    """
    if beginning == 0:
        return True
    if found is None:
        return end > beginning  # the kept records are all older: nothing newer was deleted
    return found > beginning


@dataclass(frozen=True)
class Search:
    """What a search of the target partitions found for one dead letter."""

    copies: tuple[tuple[int, int], ...] = ()
    """(partition, offset) of every record naming the letter in REDRIVE_OF."""
    retained: bool = True
    """No record written since the letter can have been deleted by retention."""
    replaced: bool = False
    """On a compacted topic, a later record has the letter's key (it may replace a copy)."""

    @property
    def state(self) -> State:
        if self.copies:
            return "redriven"
        return "not redriven" if self.retained and not self.replaced else "unknown"


def refusal(letter: DeadLetter, search: Search, again: bool) -> str | None:
    """Why the letter must not be redriven now (None: go ahead). `again` allows a redrive
    after an earlier one, or when the search cannot tell."""
    if again:
        return None
    if search.state == "redriven":
        where = ", ".join(f"{p}:{o}" for p, o in search.copies)
        return f"dead letter {letter.id} was already redriven (at {where}); --again to repeat"
    if search.state == "unknown":
        why = (
            "retention deleted records written since it"
            if not search.retained
            else "compaction may have replaced a redriven copy"
        )
        return (
            f"cannot tell whether dead letter {letter.id} was redriven ({why}); "
            "--again to redrive anyway"
        )
    return None


def earlier_copies(search: Search, produced: tuple[int, int]) -> Sequence[tuple[int, int]]:
    """Copies that landed before `produced` in its partition: a redrive running at the
    same time as this one."""
    partition, offset = produced
    return [c for c in search.copies if c[0] == partition and c[1] < offset]
