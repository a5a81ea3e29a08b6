"""Account and phone-number webhooks: the value kept whole, `event` and the display number
lifted out."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events.account import AccountUpdateReported
from shared.topics import ACCOUNT_UPDATES
from tests.services.ingest.meta_payloads import WABA, only_event, webhook


@pytest.mark.parametrize(
    ("field", "value", "event_name"),
    [
        (
            "phone_number_quality_update",
            {"display_phone_number": "15550783881", "event": "FLAGGED", "current_limit": "TIER_1K"},
            "FLAGGED",
        ),
        ("account_update", {"phone_number": "15550783881", "event": "VERIFIED_ACCOUNT"}, None),
        ("account_review_update", {"decision": "approved"}, "APPROVED"),
        (
            "phone_number_name_update",
            {"display_phone_number": "1555", "decision": "APPROVED"},
            None,
        ),
    ],
)
def test_account_and_phone_number_updates(
    field: str, value: dict[str, Any], event_name: str | None
) -> None:
    topic, event, key = only_event(webhook(field, value))

    assert topic is ACCOUNT_UPDATES
    assert key == WABA
    assert isinstance(event, AccountUpdateReported)
    assert event.field == field
    assert event.details == value
    assert event.event == (event_name or value.get("event") or value.get("decision"))
