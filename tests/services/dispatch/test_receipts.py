"""Read receipts in dispatch: Meta's request shape, `{"success": true}` ends the intent `read`
with no wamid, and a receipt is never sent once the window (its approval) has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.dispatch import payloads
from services.dispatch.cloudapi import SendOutcome, UnreadableAnswer, _parse
from services.dispatch.ledger import LedgerState
from services.dispatch.sender import UNSENT
from shared.events.common import MetaError
from shared.events.intents import ReadReceiptContent
from tests.services.dispatch.conftest import approved
from tests.services.dispatch.test_handlers import _parts

RECEIPT = ReadReceiptContent(message_id="wamid.IN1", typing_indicator=True)


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (
            RECEIPT,
            {
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": "wamid.IN1",
                "typing_indicator": {"type": "text"},
            },
        ),
        (
            ReadReceiptContent(message_id="wamid.IN1"),
            {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"},
        ),
    ],
)
def test_the_request_is_metas_read_receipt(
    content: ReadReceiptContent, body: dict[str, object]
) -> None:
    assert payloads.build(approved("r-1", content=content).intent) == body


def test_metas_success_answer_is_read() -> None:
    assert _parse(200, '{"success": true}') == SendOutcome(200, success=True)
    with pytest.raises(UnreadableAnswer):
        _parse(200, '{"success": false}')


async def test_a_receipt_meta_took_ends_read_without_a_wamid() -> None:
    parts = _parts()
    parts.api.script("", SendOutcome(200, success=True))
    await parts.decide_and_attempt(approved("r-1", content=RECEIPT))
    row = await parts.ledger.get("r-1")
    assert row is not None and row.state == LedgerState.READ and row.wamid is None
    assert parts.published.states("r-1") == ["read"]
    assert parts.api.sent[0][1]["status"] == "read"


async def test_a_success_answer_to_a_message_is_no_acceptance() -> None:
    """Only a read receipt may be answered without a wamid."""
    parts = _parts()
    parts.api.script("m-1", SendOutcome(200, success=True))
    await parts.decide_and_attempt(approved("m-1"))
    row = await parts.ledger.get("m-1")
    assert row is not None and row.state != LedgerState.READ


async def test_a_receipt_whose_window_ended_is_never_sent() -> None:
    parts = _parts()
    ended = parts.clock.now - timedelta(seconds=1)
    result = await parts.decide_and_attempt(approved("r-1", content=RECEIPT, valid_until=ended))
    assert result == UNSENT and parts.api.sent == []


async def test_a_receipt_meta_refused_fails_with_metas_code() -> None:
    parts = _parts()
    refused = SendOutcome(400, error=MetaError(code=131009, details="not a received message"))
    parts.api.script("", refused)
    await parts.decide_and_attempt(approved("r-1", content=RECEIPT))
    [update] = parts.published.updates("r-1")
    assert (update.state, update.reasons) == ("failed", ["131009"])
