"""A raw-webhook journal written to this test's own topics, for replay to read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shared.events.envelope import deterministic_id
from shared.events.webhooks import WebhookReceived
from shared.messaging import Publisher, make_producer
from shared.settings import KafkaSettings
from shared.topics import WEBHOOKS_RAW


def right_now() -> datetime:
    """Now, when the test runs (record timestamps are real time, not collection time)."""
    return datetime.now(UTC).replace(microsecond=0)


def journal(wamid: str, received_at: datetime, body: str | None = None) -> WebhookReceived:
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


async def write_journal(settings: KafkaSettings, now: datetime) -> list[WebhookReceived]:
    journals = [
        journal("wamid.two-hours-ago", now - timedelta(hours=2)),
        journal("wamid.one-hour-ago", now - timedelta(hours=1)),
        journal("wamid.now", now),
        journal("wamid.broken", now, body="{not json"),
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
