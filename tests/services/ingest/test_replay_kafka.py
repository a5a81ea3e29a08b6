"""Replay over a real journal: only the range asked for, the same ids ingest gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.ingest.replay import renormalize, replay
from shared.settings import KafkaSettings
from shared.topics import INBOUND_MESSAGES, WEBHOOKS_UNPARSED
from tests.services.ingest.journal import right_now, write_journal
from tests.services.ingest.topics import read_all

pytestmark = pytest.mark.kafka


async def test_replay_renormalises_only_the_range(kafka_settings: KafkaSettings) -> None:
    now = right_now()
    journals = await write_journal(kafka_settings, now)

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
