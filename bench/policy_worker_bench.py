"""Policy inside its faust worker, over the real broker (`python -m services.policy`, a process
of its own): decisions per second through the worker, and its windows table recovered from the
changelog.

Both start from the tables' changelogs, written first: what `policy_bench.filled_harness`
holds (open windows and opt-ins of many conversations, the templates) goes to the changelog
topics as faust writes them (JSON keys and values), so the worker recovers it on start.

- decisions: intents pre-filled on the intents topic before the worker starts, each decided
  (a repeat counts once); the rate is the decisions' own timestamps, first to last
  (`occurred_at`, stamped by the worker as it decides), the worker's CPU time between the
  first decision seen and the last, per decision, and how often its stall watch had to seek
  back (`input stalled` in its log);
- windows: `count` open windows on the windows changelog and one intent for the last
  conversation written; the time from the worker's start to that intent's decision (recovered
  and deciding: it is approved only if the window was recovered), and the resident size then.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench import policy_bench
from bench.measure import ROOT, rss_mib
from services.policy.app import create_topics
from services.policy.settings import PolicySettings
from services.policy.tables import TABLES
from services.policy.windows import WindowState
from shared import codec
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.keys import conversation_key
from shared.sealing import new_key
from shared.settings import DEVELOPMENT_MODE, KafkaSettings
from shared.topics import DECISIONS, INTENTS
from tests.conftest import delete_topics, free_port

try:
    import psutil
except ImportError:  # the `bench` extra
    psutil = None

_PARTITION = DefaultPartitioner()


@dataclass(frozen=True)
class Worker:
    """One policy worker's topics, consumer group and changelogs, all its own."""

    bootstrap: str
    run: str

    @property
    def prefix(self) -> str:
        return f"bench{self.run}."

    @property
    def app_id(self) -> str:
        return f"bench-policy-{self.run}"

    def settings(self) -> PolicySettings:
        kafka = KafkaSettings(bootstrap=self.bootstrap, topic_prefix=self.prefix)
        return PolicySettings(kafka=kafka, app_id=self.app_id, default_waba_id=policy_bench.WABA)

    def env(self, data: Path) -> dict[str, str]:
        drop = ("POLICY_", "WAGATE_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        return {
            **env,
            DEVELOPMENT_MODE: "true",
            "POLICY_SEALING_KEYS": json.dumps([new_key()]),
            "POLICY_KAFKA__BOOTSTRAP": self.bootstrap,
            "POLICY_KAFKA__TOPIC_PREFIX": self.prefix,
            "POLICY_APP_ID": self.app_id,
            "POLICY_DATA_DIR": str(data / "policy"),
            "POLICY_HTTP__PORT": str(free_port()),
            "POLICY_DEFAULT_WABA_ID": policy_bench.WABA,
            "POLICY_LOG__JSON_FORMAT": "true",
        }

    async def cleanup(self) -> None:
        await delete_topics(self.bootstrap, self.prefix)
        await delete_topics(self.bootstrap, f"{self.app_id}-")


def _partition(key: bytes, partitions: int) -> int:
    return int(_PARTITION(key, list(range(partitions)), list(range(partitions))))


Record = tuple[str, bytes, bytes, int | None]  # topic, value, key, partition


async def send_all(producer: AIOKafkaProducer, records: list[Record], tries: int = 10) -> None:
    """Every record acknowledged: a batch refused (the leaders of topics made a moment ago
    are still being elected) is sent again, never dropped unseen."""
    for _ in range(tries):
        sent = [await producer.send(t, v, k, p) for t, v, k, p in records]
        answers = await asyncio.gather(*sent, return_exceptions=True)
        records = [r for r, a in zip(records, answers, strict=True) if isinstance(a, Exception)]
        if not records:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{len(records)} records were refused {tries} times")


async def fill_changelog(
    producer: AIOKafkaProducer, app_id: str, table: str, entries: Iterable[tuple[str, Any]]
) -> int:
    """Write `entries` to the table's changelog as faust would (JSON keys and values); returns
    how many. Consent records sit in the partition their key names, the others in their key's."""
    spec = next(spec for spec in TABLES if spec.name == table)
    chunk: list[Record] = []
    count = 0
    for key, value in entries:
        partition = _partition(key.encode(), spec.partitions)
        if table == "consent" and key.rsplit("|", 1)[-1].isdigit():
            partition = int(key.rsplit("|", 1)[-1]) % spec.partitions
        packed = isinstance(value, bytes)  # a packed table's value is its changelog record
        value_bytes = value if packed else json.dumps(value).encode()
        key_bytes = json.dumps(key).encode()
        chunk.append((spec.changelog(app_id), value_bytes, key_bytes, partition))
        count += 1
        if len(chunk) >= 10_000:
            await send_all(producer, chunk)
            chunk = []
    await send_all(producer, chunk)
    return count


async def _started(worker: Worker, data: Path) -> asyncio.subprocess.Process:
    with (data / "policy.log").open("wb") as log:  # the worker holds its own copy
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.policy", cwd=ROOT, env=worker.env(data),
            stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


async def _stopped(proc: asyncio.subprocess.Process, data: Path) -> None:
    """Stop the worker; its log's tail goes to stderr when it had failed or stalled."""
    if sys.exc_info()[0] is not None:
        lines = (data / "policy.log").read_text(errors="replace").splitlines()
        decided = [line for line in lines if '"decided"' in line]
        other = [line for line in lines if '"decided"' not in line][-30:]
        print(f"{len(decided)} decided lines; the rest:", *other, sep="\n", file=sys.stderr)
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _cpu_s(pid: int) -> float:
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _decisions(
    worker: Worker, count: int, proc: asyncio.subprocess.Process, timeout_s: float
) -> tuple[list[PolicyDecisionMade], float]:
    """The first `count` decisions, and the worker's CPU seconds from the first to the last."""
    consumer = AIOKafkaConsumer(
        worker.settings().kafka.topic(DECISIONS.name),
        bootstrap_servers=worker.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    decisions: list[PolicyDecisionMade] = []
    distinct: set[str] = set()
    cpu_first = 0.0
    deadline = time.monotonic() + timeout_s  # for the first; then `timeout_s` without one
    try:
        while len(distinct) < count:
            if time.monotonic() > deadline or proc.returncode is not None:
                raise RuntimeError(f"{len(distinct)} of {count} intents were decided")
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            if batch:
                deadline = time.monotonic() + timeout_s
            for records in batch.values():
                if not decisions and records:
                    cpu_first = _cpu_s(proc.pid)
                for record in records:
                    decision = codec.decode(PolicyDecisionMade, record.value)
                    if decision.intent.intent_id not in distinct:
                        distinct.add(decision.intent.intent_id)
                        decisions.append(decision)
        return decisions, _cpu_s(proc.pid) - cpu_first
    finally:
        await consumer.stop()


async def _producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks=1)
    await producer.start()
    return producer


async def decisions(
    bootstrap: str, count: int, conversations: int, templates: int
) -> dict[str, Any]:
    """Decisions per second through the worker, intents pre-filled (half text, half template)."""
    worker = Worker(bootstrap, uuid.uuid4().hex[:8])
    await create_topics(worker.settings())
    harness = await policy_bench.filled_harness(conversations, templates, now=utcnow())
    producer = await _producer(bootstrap)
    try:
        for spec in TABLES:
            entries = getattr(harness.tables, spec.name).items()
            await fill_changelog(producer, worker.app_id, spec.name, entries)
        topic = worker.settings().kafka.topic(INTENTS.name)
        intents: list[Record] = []
        for n in range(count):
            event = policy_bench.intent(n % conversations, templates)
            event = event.model_copy(update={"intent_id": f"w-{n}"})
            key = conversation_key(event.phone_number_id, event.to)
            intents.append((topic, codec.encode(event), key.encode(), None))
        await send_all(producer, intents)
    finally:
        await producer.stop()
    with tempfile.TemporaryDirectory() as tmp:
        proc = await _started(worker, Path(tmp))
        try:
            made, cpu_s = await _decisions(worker, count, proc, timeout_s=120)
        finally:
            await _stopped(proc, Path(tmp))
            await worker.cleanup()
        stalls = (Path(tmp) / "policy.log").read_text(errors="replace").count("input stalled")
    outcomes = {d.outcome for d in made}
    assert outcomes == {"approved"}, outcomes  # the realistic path, not an early refusal
    stamps = sorted(d.occurred_at for d in made)
    spent = (stamps[-1] - stamps[0]).total_seconds()
    rate = (len(made) - 1) / spent
    return {"rate": rate, "cpu_us": cpu_s / len(made) * 1e6, "stalls": stalls}


def _window_entries(count: int, now: datetime) -> Iterator[tuple[str, Any]]:
    state = WindowState(last_customer_message_at=now - timedelta(hours=1), last_message_id="w")
    value = state.model_dump(mode="json")
    for n in range(count):
        key = conversation_key(policy_bench.PNID, policy_bench.customer(n))
        yield key, {**value, "last_message_id": f"wamid.in{n}"}


async def windows(bootstrap: str, count: int) -> dict[str, Any]:
    """`count` windows recovered from the changelog: seconds from the worker's start until it
    decides an intent for the last one, and its resident size (MiB) then."""
    worker = Worker(bootstrap, uuid.uuid4().hex[:8])
    await create_topics(worker.settings())
    now = utcnow()
    producer = await _producer(bootstrap)
    try:
        await fill_changelog(producer, worker.app_id, "windows", _window_entries(count, now))
        probe = policy_bench.intent(count - 1 - (count - 1) % 2, 1)  # a text intent
        key = conversation_key(probe.phone_number_id, probe.to)
        topic = worker.settings().kafka.topic(INTENTS.name)
        await send_all(producer, [(topic, codec.encode(probe), key.encode(), None)])
    finally:
        await producer.stop()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        proc = await _started(worker, Path(tmp))
        try:
            (made,), _ = await _decisions(worker, 1, proc, timeout_s=600)
            ready_s = time.monotonic() - started
            rss = rss_mib(proc.pid)
        finally:
            await _stopped(proc, Path(tmp))
            await worker.cleanup()
    assert made.outcome == "approved", made.reasons  # its window was recovered
    return {"windows": count, "ready_s": ready_s, "rss_mib": rss}


def main() -> None:
    """`python -m bench.policy_worker_bench BOOTSTRAP decisions COUNT CONVERSATIONS TEMPLATES`
    or `... BOOTSTRAP windows COUNT`: one JSON line."""
    bootstrap, part, *sizes = sys.argv[1:]
    numbers = [int(s) for s in sizes]
    if part == "decisions":
        print(json.dumps(asyncio.run(decisions(bootstrap, *numbers))))
    else:
        print(json.dumps(asyncio.run(windows(bootstrap, *numbers))))


if __name__ == "__main__":
    main()
