"""The console's I/O shell: records of every topic it reads -> projected rows -> one
transaction per batch -> commit; retention; redrives; and the sandbox's customer, for chat.

The read model writes a whole fetch at once and commits its offsets only after the rows are
in PostgreSQL: a crash in between reads the batch again, and rows already there stay as
they are (each is keyed by its event id). A record the console cannot read is counted and
skipped: the console only watches these topics, and the record's own consumer dead-letters it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.console import projection
from services.console.access import Token
from services.console.errors import DeadLetterGone, SandboxUnavailable
from services.console.metrics import ConsoleMetrics
from services.console.projection import Batch
from services.console.settings import parse_tokens
from services.console.store import ReadModelStore
from shared import codec, deadletters, logs
from shared.errors import DecodeError, RetryableError, StartupError
from shared.events.envelope import Event
from shared.messaging import make_reader
from shared.settings import KafkaSettings

log = logs.get(__name__)
Records = Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class Writer(Protocol):
    async def write(self, batch: Batch) -> dict[str, int]: ...


@dataclass
class ReadModel:
    """Fetches, projects and writes batches; `models` maps each Kafka topic to its event
    model (None for the dead-letter topic, whose records are kept as they are)."""

    consumer: AIOKafkaConsumer
    store: Writer
    models: Mapping[str, type[Event] | None]
    metrics: ConsoleMetrics
    max_records: int = 500
    poll_ms: int = 200
    max_backoff_s: float = 30.0
    _backoff_s: float = 0.0

    async def run_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not await self.step():
                await _sleep_unless(stop, self._backoff_s)

    async def step(self) -> bool:
        """One fetch written and committed; False when it must be read again later."""
        records: Records = await self.consumer.getmany(
            timeout_ms=self.poll_ms, max_records=self.max_records
        )
        if not records:
            return True
        batch = self.project(records)
        try:
            with self.metrics.batch_seconds.time():
                written = await self.store.write(batch)
        except RetryableError as exc:
            for tp, rows in records.items():
                self.consumer.seek(tp, rows[0].offset)
            self._backoff_s = min(self.max_backoff_s, max(0.2, self._backoff_s * 2))
            self.metrics.retried.inc()
            log.warning("read model unavailable", reason=str(exc), backoff_s=self._backoff_s)
            return False
        self._backoff_s = 0.0
        for table, count in written.items():
            self.metrics.rows.labels(table).inc(count)
        try:
            await self.consumer.commit({tp: rows[-1].offset + 1 for tp, rows in records.items()})
        except KafkaError as exc:  # a rebalance: the next owner reads the batch again
            log.warning("commit failed; the batch will be read again", reason=str(exc))
        return True

    def project(self, records: Records) -> Batch:
        batch = Batch()
        count = 0
        for rows in records.values():
            for record in rows:
                count += 1
                self._add(batch, record)
        self.metrics.batch_records.observe(count)
        return batch

    def _add(self, batch: Batch, record: ConsumerRecord[bytes, bytes]) -> None:
        model = self.models.get(record.topic)
        if model is None:
            projection.dead_letter(batch, deadletters.DeadLetter.of(record))
            return
        try:
            projection.project(batch, codec.decode(model, record.value))
        except DecodeError as exc:
            self.metrics.skipped.labels(record.topic).inc()
            log.warning(
                "record skipped",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=str(exc),
            )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


@dataclass
class Retention:
    store: ReadModelStore
    metrics: ConsoleMetrics
    clock: Callable[[], datetime]
    days: float

    async def once(self) -> dict[str, int]:
        deleted = await self.store.forget_before(self.clock() - timedelta(days=self.days))
        for table, count in deleted.items():
            self.metrics.retention.labels(table).inc(count)
        if any(deleted.values()):
            log.info("retention", deleted=deleted)
        return deleted


@dataclass
class Redriver:
    """Puts a dead letter back on its source topic: the record itself is read again from
    the dead-letter topic (the console keeps no copy of what it may not store)."""

    producer: AIOKafkaProducer
    kafka: KafkaSettings
    store: ReadModelStore
    metrics: ConsoleMetrics
    read_timeout_s: float = 10.0

    async def redrive(self, topic: str, partition: int, offset: int, by: str) -> str:
        """Redrive one dead letter as the CLI does (`shared.deadletters.redrive`: its source
        topic and partition, its own headers, and which letter, who and when); returns the
        topic it went back to."""
        letter = deadletters.DeadLetter.of(await self.fetch(topic, partition, offset))
        try:
            target, _ = await deadletters.redrive(
                self.producer, self.kafka, letter, by, datetime.now(UTC)
            )
        except deadletters.RedriveRefused:
            self.metrics.redrives.labels("refused").inc()
            raise
        await self.store.redriven(topic, partition, offset, by)
        self.metrics.redrives.labels("redriven").inc()
        log.info("redriven", topic=topic, partition=partition, offset=offset, to=target, by=by)
        return target

    async def fetch(self, topic: str, partition: int, offset: int) -> ConsumerRecord[Any, Any]:
        reader = make_reader(self.kafka)
        await reader.start()
        try:
            tp = TopicPartition(topic, partition)
            reader.assign([tp])
            reader.seek(tp, offset)
            async with asyncio.timeout(self.read_timeout_s):
                while True:
                    fetched = await reader.getmany(tp, timeout_ms=500, max_records=1)
                    for record in fetched.get(tp, []):
                        if record.offset == offset:
                            return record
                        self.metrics.redrives.labels("gone").inc()
                        raise DeadLetterGone(f"{topic}:{partition}:{offset} is gone from Kafka")
        except TimeoutError as exc:
            self.metrics.redrives.labels("gone").inc()
            raise DeadLetterGone(f"{topic}:{partition}:{offset} could not be read") from exc
        finally:
            await reader.stop()


@dataclass
class TokenFile:
    """The accepted tokens from a file (a mounted Secret), read again when it changes; a
    file that turns unreadable or invalid keeps the last good tokens (and says so)."""

    path: Path
    check_every_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _tokens: tuple[Token, ...] = ()
    _stamp: tuple[float, int] | None = None
    _checked: float = float("-inf")

    def current(self) -> tuple[Token, ...]:
        now = self.clock()
        if now - self._checked < self.check_every_s:
            return self._tokens
        self._checked = now
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime, stat.st_size)
            if stamp != self._stamp:
                self._tokens = parse_tokens(self.path.read_text())
                self._stamp = stamp
                log.info("tokens read", path=str(self.path), count=len(self._tokens))
        except (OSError, ValueError) as exc:
            if self._stamp is None:
                raise StartupError(f"the token file {self.path} cannot be used: {exc}") from exc
            log.warning("token file unusable; keeping the last tokens", reason=str(exc))
        return self._tokens


@dataclass
class SandboxCustomer:
    """Writes as a simulated customer through the sandbox's control API."""

    session: aiohttp.ClientSession
    base_url: str

    async def write(self, number: str, customer: str, text: str) -> str:
        kind = projection.customer_of(customer)[1]
        sender = {"from_user_id": customer} if kind == "bsuid" else {"from": customer}
        body = {"phone_number_id": number, "text": text, **sender}
        url = f"{self.base_url.rstrip('/')}/_sandbox/customer-messages"
        try:
            async with self.session.post(url, json=body) as resp:
                answer = await resp.json(content_type=None)
                if resp.status != 200:
                    raise SandboxUnavailable(f"the sandbox answered {resp.status}: {answer}")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SandboxUnavailable(f"the sandbox did not answer: {exc}") from exc
        return str(answer.get("id", ""))
