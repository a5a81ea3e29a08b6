"""`wagate send --wait` through the installed command against a real broker: each delivery
update is printed the moment it is on the topic, the exit code says the outcome, and
`--not-after` without an offset is UTC whatever the local time zone."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted
from shared.messaging import Publisher, make_producer
from shared.settings import KafkaSettings
from shared.topics import DELIVERY, INTENTS
from tests.services.ingest.topics import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

WAGATE = str(Path(sys.executable).parent / "wagate")
PNID, CUSTOMER = "106540352242922", "16505551234"


@pytest.fixture
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    try:
        yield Publisher(producer, kafka_settings)
    finally:
        await producer.stop()


async def _wagate(
    settings: KafkaSettings, *args: str, tz: str = "UTC"
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        WAGATE,
        *("--bootstrap", settings.bootstrap, "--topic-prefix", settings.topic_prefix, *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TZ": tz},
    )


def _send(intent_id: str, *extra: str) -> list[str]:
    return [
        "send",
        "text",
        "--from",
        PNID,
        "--to",
        CUSTOMER,
        "--body",
        "hi",
        "--intent-id",
        intent_id,
        *extra,
    ]


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()


async def _update(publisher: Publisher, intent_id: str, state: str, **fields: object) -> None:
    update = DeliveryUpdated(
        intent_id=intent_id,
        phone_number_id=PNID,
        to=CUSTOMER,
        state=state,
        **fields,  # type: ignore[arg-type]
    )
    await publisher.publish(DELIVERY, update, f"{PNID}:{CUSTOMER}")


async def test_each_update_is_printed_as_it_arrives(
    kafka_settings: KafkaSettings, publisher: Publisher
) -> None:
    proc = await _wagate(kafka_settings, *_send("stream-1", "--wait", "60"))
    assert json.loads(await _line(proc)) == {"intent_id": "stream-1"}

    await _update(publisher, "stream-1", "accepted", wamid="wamid.S1")
    accepted = json.loads(await _line(proc))
    assert (accepted["state"], accepted["wamid"]) == ("accepted", "wamid.S1")
    assert proc.returncode is None  # printed while it still follows the intent

    await _update(publisher, "other-intent", "failed")  # not this intent: not printed
    await _update(publisher, "stream-1", "delivered", wamid="wamid.S1")
    assert json.loads(await _line(proc))["state"] == "delivered"
    assert await asyncio.wait_for(proc.wait(), 60) == 0


@pytest.mark.parametrize(
    ("states", "code"),
    [
        (["accepted", "sent"], 0),  # the Cloud API took it: done, even before `delivered`
        (["rejected"], 3),  # refused by policy
        (["accepted", "failed"], 1),  # failed at Meta
        (["expired"], 1),
        (["held"], 4),  # no outcome within --wait
        (["accepted", "unknown"], 4),
        ([], 4),
    ],
)
async def test_the_exit_code_says_the_outcome(
    kafka_settings: KafkaSettings, publisher: Publisher, states: list[str], code: int
) -> None:
    proc = await _wagate(kafka_settings, "--table", *_send("exit-1", "--wait", "8"))
    assert (await _line(proc)).strip() == "intent exit-1"
    for state in states:
        await _update(
            publisher, "exit-1", state, reasons=["WINDOW_CLOSED"] if state == "rejected" else []
        )
    printed = [await _line(proc) for _ in states]
    assert [line.split()[1] for line in printed] == states
    assert await asyncio.wait_for(proc.wait(), 60) == code
    assert proc.stderr is not None
    said = (await proc.stderr.read()).decode()
    assert (f"exit {code}:" in said) is (code != 0)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("2026-03-05T09:00:00", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05T10:00:00+01:00", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05T09:00:00Z", datetime(2026, 3, 5, 9, tzinfo=UTC)),
    ],
)
async def test_not_after_is_utc_without_an_offset_whatever_the_local_zone(
    kafka_settings: KafkaSettings, given: str, meant: datetime
) -> None:
    proc = await _wagate(kafka_settings, *_send("late-1", "--not-after", given), tz="Asia/Kolkata")
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    [record] = await read_all(kafka_settings, INTENTS)
    assert OutboundIntentSubmitted.model_validate(record).not_after == meant
