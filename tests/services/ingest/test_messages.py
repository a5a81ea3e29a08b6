"""The `messages` and `user_preferences` fields: preferences, value-level errors, every inbound
type with its own object and context, and every status value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.events.account import WebhookErrorReported
from shared.events.common import MetaError
from shared.events.preferences import UserPreferenceChanged
from shared.topics import INBOUND_MESSAGES, STATUSES, USER_PREFERENCES, WEBHOOK_ERRORS
from tests.services.ingest.meta_payloads import CUSTOMER, METADATA, PNID, only_event, webhook


def test_user_preferences_stop() -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "contacts": [{"wa_id": CUSTOMER}],
        "user_preferences": [
            {
                "wa_id": CUSTOMER,
                "detail": "User requested to stop marketing messages",
                "category": "marketing_messages",
                "value": "stop",
                "timestamp": 1731705721,
            }
        ],
    }

    topic, event, key = only_event(webhook("user_preferences", value))

    assert topic is USER_PREFERENCES
    assert key == f"{PNID}:{CUSTOMER}"
    assert isinstance(event, UserPreferenceChanged)
    assert (event.wa_id, event.category, event.value) == (CUSTOMER, "marketing_messages", "stop")
    assert event.timestamp == datetime.fromtimestamp(1731705721, UTC)
    resumed = {**value["user_preferences"][0], "value": "resume"}
    _, other, _ = only_event(webhook("user_preferences", {**value, "user_preferences": [resumed]}))
    assert other.event_id != event.event_id


def test_value_level_error() -> None:
    error = {
        "code": 130429,
        "title": "Rate limit hit",
        "message": "Rate limit hit",
        "error_data": {"details": "too many messages sent from this phone number"},
    }
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "errors": [error]}

    topic, event, key = only_event(webhook("messages", value))

    assert topic is WEBHOOK_ERRORS
    assert key == PNID
    assert isinstance(event, WebhookErrorReported)
    assert event.error == MetaError(
        code=130429,
        title="Rate limit hit",
        message="Rate limit hit",
        details="too many messages sent from this phone number",
    )
    assert event.phone_number_id == PNID
    assert only_event(webhook("messages", value))[1].event_id == event.event_id


def _message(kind: str, own: Any, **extra: Any) -> dict[str, Any]:
    return {"from": CUSTOMER, "id": f"wamid.{kind}", "timestamp": "1750091045", "type": kind,
            kind: own, **extra}  # fmt: skip


CONTEXT = {"from": "15550783881", "id": "wamid.answered"}
INBOUND_CASES = [
    ("video", {"id": "1", "mime_type": "video/mp4", "sha256": "x", "caption": "look"}),
    ("audio", {"id": "2", "mime_type": "audio/ogg", "sha256": "x", "voice": True}),
    ("document", {"id": "3", "mime_type": "application/pdf", "filename": "invoice.pdf"}),
    ("sticker", {"id": "4", "mime_type": "image/webp", "animated": False}),
    ("location", {"latitude": 38.9, "longitude": -77.0, "name": "Office", "address": "1 Main"}),
    (
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "r1", "title": "T", "description": "d"}},
    ),
    (
        "interactive",
        {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}},
    ),
    (
        "order",
        {
            "catalog_id": "c1",
            "text": "hi",
            "product_items": [
                {"product_retailer_id": "p1", "quantity": 2, "item_price": 9.5, "currency": "USD"}
            ],
        },
    ),
    (
        "system",
        {"body": "A future notice", "type": "customer_identity_changed"},
    ),
    ("revoke", {"original_message_id": "wamid.orig"}),
    ("a_type_from_the_future", {"anything": [1, 2]}),
]


@pytest.mark.parametrize(("kind", "own"), INBOUND_CASES)
def test_every_inbound_type_keeps_its_object_and_context(kind: str, own: dict[str, Any]) -> None:
    value = {"messaging_product": "whatsapp", "metadata": METADATA,
             "messages": [_message(kind, own, context=CONTEXT)]}  # fmt: skip

    topic, event, key = only_event(webhook("messages", value, time=None))

    assert (topic, key) == (INBOUND_MESSAGES, f"{PNID}:{CUSTOMER}")
    assert (event.message_type, event.content, event.context_message_id) == (
        kind,
        own,
        "wamid.answered",
    )


def test_a_forwarded_message_about_a_product_keeps_its_whole_context() -> None:
    context = {
        "from": "15550783881",
        "id": "wamid.catalog",
        "forwarded": True,
        "referred_product": {"catalog_id": "c1", "product_retailer_id": "sku-1"},
    }
    msg = _message("text", {"body": "Is this in stock?"}, context=context)
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "messages": [msg]}

    _, event, _ = only_event(webhook("messages", value))

    assert (event.context_message_id, event.context) == ("wamid.catalog", context)


def test_contacts_message_keeps_its_list() -> None:
    cards = [{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]
    value = {"messaging_product": "whatsapp", "metadata": METADATA,
             "messages": [_message("contacts", cards)]}  # fmt: skip

    _, event, _ = only_event(webhook("messages", value))

    assert event.content == {"contacts": cards}


def test_click_to_whatsapp_referral_is_kept() -> None:
    referral = {"source_url": "https://fb.me/x", "source_id": "120", "source_type": "ad",
                "headline": "Sale", "media_type": "image", "ctwa_clid": "ARAk"}  # fmt: skip
    msg = {**_message("text", {"body": "Hi"}), "referral": referral}
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "messages": [msg]}

    _, event, _ = only_event(webhook("messages", value))

    assert (event.text, event.referral) == ("Hi", referral)


@pytest.mark.parametrize("state", ["read", "played", "deleted", "warning", "something_new"])
def test_every_status_value_is_kept_even_unknown_ones(state: str) -> None:
    st = {"id": "wamid.s", "status": state, "timestamp": "1750263773", "recipient_id": CUSTOMER}
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "statuses": [st]}

    topic, event, _ = only_event(webhook("messages", value))

    assert (topic, event.status) == (STATUSES, state)
