"""`wagate replay` over a real journal: only the range asked for, the same ids ingest gives."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from cli.main import main
from services.ingest.replay import renormalize, replay
from shared.events.envelope import deterministic_id
from shared.events.webhooks import WebhookReceived
from shared.messaging import Publisher, make_producer
from shared.settings import KafkaSettings
from shared.topics import INBOUND_MESSAGES, WEBHOOKS_RAW, WEBHOOKS_UNPARSED
from tests.services.ingest.topics import read_all

pytestmark = pytest.mark.kafka


def _now() -> datetime:
    """Now, when the test runs (record timestamps are real time, not collection time)."""
    return datetime.now(UTC).replace(microsecond=0)


def _journal(wamid: str, received_at: datetime, body: str | None = None) -> WebhookReceived:
    value = {
        "metadata": {"phone_number_id": "106540352242922"},
        "messages": [
            {
                "from": "16505551234",
                "id": wamid,
                "timestamp": "1749416383",
                "type": "text",
                "text": {"body": "hi"},
            }
        ],
    }
    changes = [{"field": "messages", "value": value}, {"field": "history", "value": {}}]
    text = body or json.dumps({"entry": [{"id": "102290129340398", "changes": changes}]})
    return WebhookReceived(
        event_id=deterministic_id("webhook", wamid),
        producer="ingest",
        body=text,
        received_at=received_at,
    )


async def _write_journal(settings: KafkaSettings, now: datetime) -> list[WebhookReceived]:
    journals = [
        _journal("wamid.two-hours-ago", now - timedelta(hours=2)),
        _journal("wamid.one-hour-ago", now - timedelta(hours=1)),
        _journal("wamid.now", now),
        _journal("wamid.broken", now, body="{not json"),
    ]
    producer = make_producer(settings, "journal-writer")
    await producer.start()
    try:
        await Publisher(producer, settings).publish_many(
            [(WEBHOOKS_RAW, j, "106540352242922") for j in journals]
        )
    finally:
        await producer.stop()
    return journals


async def test_replay_renormalises_only_the_range(kafka_settings: KafkaSettings) -> None:
    now = _now()
    journals = await _write_journal(kafka_settings, now)

    summary = await replay(kafka_settings, now - timedelta(minutes=90), now + timedelta(minutes=1))

    assert summary.as_dict() == {
        "webhooks": 2,
        "skipped": 1,
        "events": 4,
        "by_topic": {INBOUND_MESSAGES.name: 2, WEBHOOKS_UNPARSED.name: 2},
    }
    inbound = await read_all(kafka_settings, INBOUND_MESSAGES)
    assert sorted(m["message_id"] for m in inbound) == ["wamid.now", "wamid.one-hour-ago"]
    expected = renormalize(journals[1])
    assert expected is not None
    ids = {m["message_id"]: m["event_id"] for m in inbound}
    assert ids["wamid.one-hour-ago"] == expected[0][1].event_id
    unparsed = await read_all(kafka_settings, WEBHOOKS_UNPARSED)
    assert {u["webhook_event_id"] for u in unparsed} == {journals[1].event_id, journals[2].event_id}


def test_the_cli_dry_run_counts_and_publishes_nothing(kafka_settings: KafkaSettings) -> None:
    now = _now()
    asyncio.run(_write_journal(kafka_settings, now))
    since = (now - timedelta(hours=3)).isoformat()
    args = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]

    result = CliRunner().invoke(main, [*args, "replay", "--since", since, "--dry-run"])

    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["webhooks"], out["skipped"], out["events"], out["dry_run"]) == (3, 1, 6, True)
    assert asyncio.run(read_all(kafka_settings, INBOUND_MESSAGES)) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "yesterday"], "not an ISO 8601 time"),
        (["--since", "2026-01-02T00:00:00", "--until", "2026-01-01"], "must be after"),
    ],
)
def test_the_cli_refuses_bad_ranges(options: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["replay", *options])

    assert result.exit_code == 2
    assert message in result.output
