"""Policy's faust worker after SIGTERM: it finishes the record in hand, commits and exits 0;
a record whose handling never ends (waiting, or blocking the event loop) holds the exit no
longer than `drain_s`, and stays uncommitted, so the next process reads it again."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]
DRAIN_S = 6.0


async def test_a_record_in_hand_is_finished_and_committed(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    took, code, committed = await _sigterm_while_taking(kafka_bootstrap, tmp_path, b"1.5")
    assert code == 0
    assert 1.5 <= took < DRAIN_S, took  # waited for the record, not for the bound
    assert "drain took too long" not in (tmp_path / "worker.log").read_text()
    assert (tmp_path / "marks").read_text().splitlines() == ["took 1.5", "done 1.5"]
    assert committed == 1


@pytest.mark.parametrize("value", [b"never", b"block"])
async def test_a_record_never_finished_holds_the_exit_only_drain_s(
    kafka_bootstrap: str, tmp_path: Path, value: bytes
) -> None:
    took, code, committed = await _sigterm_while_taking(kafka_bootstrap, tmp_path, value)
    assert code == 0
    assert DRAIN_S - 0.5 <= took <= DRAIN_S + 2.0, took
    assert (tmp_path / "marks").read_text().splitlines() == [f"took {value.decode()}"]
    assert "drain took too long" in (tmp_path / "worker.log").read_text()
    assert committed in (None, 0)  # read again by the next process


async def _sigterm_while_taking(
    bootstrap: str, tmp_path: Path, value: bytes
) -> tuple[float, int, int | None]:
    """Start the worker, give it one record, SIGTERM it once the record is taken: how long it
    took to exit, its exit code, and the offset its group committed."""
    topic = f"drain-{uuid.uuid4().hex[:10]}"
    marks = tmp_path / "marks"
    marks.touch()
    await _produce(bootstrap, topic, value)
    args = [bootstrap, topic, str(marks), str(tmp_path / "data"), str(DRAIN_S)]
    with (tmp_path / "worker.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.services.policy.held_worker", *args],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            await _until_marked(marks, f"took {value.decode()}", proc, tmp_path)
            proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            while proc.poll() is None and time.monotonic() - sent < DRAIN_S + 20:
                await asyncio.sleep(0.05)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return took, proc.returncode, await _committed(bootstrap, f"{topic}-group", topic)


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    """`value` as the one record of `topic`, a topic of one partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _until_marked(marks: Path, line: str, proc: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while line not in marks.read_text().splitlines():
        assert proc.poll() is None, (logs / "worker.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (logs / "worker.log").read_text()[-3000:]
        await asyncio.sleep(0.1)


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, 0))
    return None if meta is None or meta.offset < 0 else meta.offset
