"""The sandbox's read receipt rules: Meta's shape only, a message the customer sent, the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sandbox.rules.receipts import check_receipt

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
READ = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}
OPEN = NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("payload", "known", "last", "code"),
    [
        (READ, True, OPEN, None),
        ({**READ, "typing_indicator": {"type": "text"}}, True, OPEN, None),
        ({**READ, "typing_indicator": {"type": "audio"}}, True, OPEN, 100),
        ({**READ, "typing_indicator": "text"}, True, OPEN, 100),
        ({**READ, "messaging_product": "sms"}, True, OPEN, 100),
        ({**READ, "to": "16505551234"}, True, OPEN, 100),
        ({k: v for k, v in READ.items() if k != "message_id"}, True, OPEN, 131008),
        ({**READ, "message_id": 7}, True, OPEN, 131008),
        (READ, False, OPEN, 131009),
        (READ, True, NOW - timedelta(hours=24), 131047),
        (READ, True, None, 131047),
    ],
)
def test_read_receipts(
    payload: dict[str, Any], known: bool, last: datetime | None, code: int | None
) -> None:
    error = check_receipt(payload, known, last, NOW)
    assert (error.code if error else None) == code
