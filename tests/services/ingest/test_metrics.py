"""The `type` label of published events stays within known values whatever Meta sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.metrics import event_label, reason_label
from shared.events.account import AccountUpdateReported
from shared.events.envelope import Event
from shared.events.message_types import INBOUND
from shared.events.preferences import UserPreferenceChanged
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported

AT = datetime(2025, 6, 16, tzinfo=UTC)


def _inbound(kind: str) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="1", wa_id="2", message_id="wamid.1", timestamp=AT, message_type=kind
    )


@pytest.mark.parametrize("kind", sorted(INBOUND))
def test_every_inbound_type_is_its_own_label(kind: str) -> None:
    assert event_label(_inbound(kind)) == kind


@pytest.mark.parametrize(
    ("event", "label"),
    [
        pytest.param(_inbound("a_type_from_the_future"), "other", id="unknown-type"),
        pytest.param(
            MessageStatusReported(
                phone_number_id="1", message_id="m", status="read", timestamp=AT, recipient_id="2"
            ),
            "read",
            id="status",
        ),
        pytest.param(
            MessageStatusReported(
                phone_number_id="1",
                message_id="m",
                status="sideways",
                timestamp=AT,
                recipient_id="2",
            ),
            "other",
            id="unknown-status",
        ),
        pytest.param(
            AccountUpdateReported(field="account_alerts", waba_id="w", details={}),
            "account_alerts",
            id="account",
        ),
        pytest.param(
            UserPreferenceChanged(
                phone_number_id="1", wa_id="2", category="c", value="pause", timestamp=AT
            ),
            "other",
            id="unknown-preference",
        ),
        pytest.param(
            WebhookFragmentUnparsed(field="attacker_field", reason="r", fragment=None),
            "other",
            id="unknown-field",
        ),
        pytest.param(
            WebhookFragmentUnparsed(field="messages", reason="r", fragment=None),
            "messages",
            id="known-field",
        ),
        pytest.param(Event(), "other", id="any-other-event"),
    ],
)
def test_labels_are_bounded(event: Event, label: str) -> None:
    assert event_label(event) == label


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("malformed: entry[0]: not an object", "malformed"),
        (
            "not typed yet: entry[0].changes[0]: field `history` is not one ingest types",
            "not_typed_yet",
        ),
        ("too many: 6000 events, more than 5000: kept only in the journal", "too_many"),
        ("attacker: chosen text", "other"),
        ("", "other"),
    ],
)
def test_reason_labels_are_the_kind_of_refusal(reason: str, label: str) -> None:
    event = WebhookFragmentUnparsed(field="messages", reason=reason, fragment=None)
    assert reason_label(event) == label
