"""Replaying a journaled body builds the events ingest builds live, future flag included: a
timestamp later than the journal's receive time plus the default skew is flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.ingest.normalize import DEFAULT_FUTURE_SKEW
from services.ingest.replay import renormalize
from shared.events.webhooks import InboundMessageReceived, WebhookReceived
from tests.services.ingest.meta_payloads import CUSTOMER, METADATA, webhook

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "future"),
    [(RECEIVED - timedelta(hours=1), False), (RECEIVED + DEFAULT_FUTURE_SKEW * 2, True)],
)
def test_a_replayed_message_is_flagged_against_its_journal_receive_time(
    sent: datetime, future: bool
) -> None:
    msg = {"from": CUSTOMER, "id": "wamid.r", "timestamp": str(int(sent.timestamp())),
           "type": "text", "text": {"body": "hi"}}  # fmt: skip
    body = json.dumps(webhook("messages", {"metadata": METADATA, "messages": [msg]}))
    journal = WebhookReceived(event_id="j", producer="ingest", body=body, received_at=RECEIVED)

    emits = renormalize(journal)

    assert emits is not None
    ((_, event, _),) = emits
    assert isinstance(event, InboundMessageReceived)
    assert (event.received_at, event.timestamp_in_future) == (RECEIVED, future)


def test_a_journaled_body_that_is_not_standard_json_is_skipped() -> None:
    journal = WebhookReceived(
        event_id="j", producer="ingest", body='{"a": NaN}', received_at=RECEIVED
    )
    assert renormalize(journal) is None
