"""Every other payload kind of §4 and §2.8: template, account, preference and error webhooks,
every inbound type, unknown statuses, and payload shapes that must become `unparsed`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.normalize import normalize
from shared.events.account import AccountUpdateReported, WebhookErrorReported
from shared.events.common import MetaError
from shared.events.preferences import UserPreferenceChanged
from shared.events.templates import TemplateUpdateReported
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.topics import (
    ACCOUNT_UPDATES,
    INBOUND_MESSAGES,
    STATUSES,
    TEMPLATE_UPDATES,
    USER_PREFERENCES,
    WEBHOOK_ERRORS,
    WEBHOOKS_UNPARSED,
)

WABA = "102290129340398"
PNID = "106540352242922"
CUSTOMER = "16505551234"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": PNID}
TIME = 1751247548


def _payload(field: str, value: dict[str, Any], time: int | None = TIME) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": WABA, "changes": [{"field": field, "value": value}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _one(payload: dict[str, Any]) -> tuple[Any, Any, str]:
    out = normalize(payload, "corr")
    assert out.unparsed == []
    assert len(out.events) == 1
    return out.events[0]


# §4.10 (F)
PAUSED = {
    "event": "PAUSED",
    "message_template_id": 1689556908129832,
    "message_template_name": "order_confirmation",
    "message_template_language": "en_US",
    "reason": "NONE",
    "message_template_category": "UTILITY",
    "other_info": {"title": "FIRST_PAUSE", "description": "Your template has been paused."},
}
# §4.10 (G)
CATEGORY_NOTICE = {
    "message_template_id": 278077987957091,
    "message_template_name": "welcome_template",
    "message_template_language": "en_US",
    "new_category": "UTILITY",
    "correct_category": "MARKETING",
    "category_update_timestamp": 1746169200,
}
QUALITY = {
    "previous_quality_score": "GREEN",
    "new_quality_score": "YELLOW",
    "message_template_id": 806312974732579,
    "message_template_name": "welcome_template",
    "message_template_language": "en-US",
}


def test_template_paused() -> None:
    topic, event, key = _one(_payload("message_template_status_update", PAUSED))

    assert topic is TEMPLATE_UPDATES
    assert key == f"{WABA}:1689556908129832"
    assert isinstance(event, TemplateUpdateReported)
    assert (event.kind, event.event, event.reason, event.category) == (
        "status",
        "PAUSED",
        "NONE",
        "UTILITY",
    )
    assert (event.template_id, event.template_name, event.language) == (
        "1689556908129832",
        "order_confirmation",
        "en_US",
    )
    assert event.reported_at == datetime.fromtimestamp(TIME, UTC)
    assert event.details == {"other_info": PAUSED["other_info"]}


def test_template_rejected_keeps_rejection_info() -> None:
    value = {**PAUSED, "event": "REJECTED", "reason": "INVALID_FORMAT"}
    value.pop("other_info")
    value["rejection_info"] = {"reason": "INVALID_FORMAT", "recommendation": "Fix it"}

    _, event, _ = _one(_payload("message_template_status_update", value))

    assert (event.event, event.details) == ("REJECTED", {"rejection_info": value["rejection_info"]})


def test_template_category_notice() -> None:
    _, event, _ = _one(_payload("template_category_update", CATEGORY_NOTICE))

    assert event.kind == "category"
    assert (event.new_category, event.correct_category, event.previous_category) == (
        "UTILITY",
        "MARKETING",
        None,
    )
    assert event.category_update_at == datetime(2025, 5, 2, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "field", ["message_template_quality_update", "message_template_status_update"]
)
def test_template_quality_is_recognised_by_its_score_under_either_field(field: str) -> None:
    _, event, key = _one(_payload(field, QUALITY))

    assert event.kind == "quality"
    assert (event.previous_quality_score, event.new_quality_score) == ("GREEN", "YELLOW")
    assert key == f"{WABA}:806312974732579"


@pytest.mark.parametrize(
    ("spelling", "normalised"),
    [("en_US", "en_US"), ("en-US", "en_US"), ("en-us", "en_US"), ("pt_BR", "pt_BR"), ("de", "de")],
)
def test_language_spellings_are_normalised(spelling: str, normalised: str) -> None:
    value = {**PAUSED, "message_template_language": spelling}

    _, event, _ = _one(_payload("message_template_status_update", value))

    assert event.language == normalised


def test_the_same_template_event_with_either_language_spelling_has_one_id() -> None:
    a = _one(_payload("message_template_status_update", PAUSED))[1]
    b_value = {**PAUSED, "message_template_language": "en-US"}
    b = _one(_payload("message_template_status_update", b_value))[1]
    later = _one(_payload("message_template_status_update", PAUSED, time=TIME + 60))[1]

    assert a.event_id == b.event_id
    assert a.event_id != later.event_id


def test_template_components_update_keeps_the_changes() -> None:
    value = {
        "message_template_id": 1,
        "message_template_name": "n",
        "message_template_language": "en_US",
        "message_template_element": "Hello {{1}}",
    }

    _, event, _ = _one(_payload("message_template_components_update", value))

    assert event.kind == "components"
    assert event.details == {"message_template_element": "Hello {{1}}"}


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

    topic, event, key = _one(_payload("user_preferences", value))

    assert topic is USER_PREFERENCES
    assert key == f"{PNID}:{CUSTOMER}"
    assert isinstance(event, UserPreferenceChanged)
    assert (event.wa_id, event.category, event.value) == (CUSTOMER, "marketing_messages", "stop")
    assert event.timestamp == datetime.fromtimestamp(1731705721, UTC)
    resumed = {**value["user_preferences"][0], "value": "resume"}
    _, other, _ = _one(_payload("user_preferences", {**value, "user_preferences": [resumed]}))
    assert other.event_id != event.event_id


def test_value_level_error() -> None:
    error = {
        "code": 130429,
        "title": "Rate limit hit",
        "message": "Rate limit hit",
        "error_data": {"details": "too many messages sent from this phone number"},
    }
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "errors": [error]}

    topic, event, key = _one(_payload("messages", value))

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
    assert _one(_payload("messages", value))[1].event_id == event.event_id


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
    topic, event, key = _one(_payload(field, value))

    assert topic is ACCOUNT_UPDATES
    assert key == WABA
    assert isinstance(event, AccountUpdateReported)
    assert event.field == field
    assert event.details == value
    assert event.event == (event_name or value.get("event") or value.get("decision"))


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
        {"body": "User changed number", "wa_id": "16505550000", "type": "user_changed_number"},
    ),
    ("revoke", {"original_message_id": "wamid.orig"}),
    ("a_type_from_the_future", {"anything": [1, 2]}),
]


@pytest.mark.parametrize(("kind", "own"), INBOUND_CASES)
def test_every_inbound_type_keeps_its_object_and_context(kind: str, own: dict[str, Any]) -> None:
    value = {"messaging_product": "whatsapp", "metadata": METADATA,
             "messages": [_message(kind, own, context=CONTEXT)]}  # fmt: skip

    topic, event, key = _one(_payload("messages", value, time=None))

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

    _, event, _ = _one(_payload("messages", value))

    assert (event.context_message_id, event.context) == ("wamid.catalog", context)


def test_contacts_message_keeps_its_list() -> None:
    cards = [{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]
    value = {"messaging_product": "whatsapp", "metadata": METADATA,
             "messages": [_message("contacts", cards)]}  # fmt: skip

    _, event, _ = _one(_payload("messages", value))

    assert event.content == {"contacts": cards}


def test_click_to_whatsapp_referral_is_kept() -> None:
    referral = {"source_url": "https://fb.me/x", "source_id": "120", "source_type": "ad",
                "headline": "Sale", "media_type": "image", "ctwa_clid": "ARAk"}  # fmt: skip
    msg = {**_message("text", {"body": "Hi"}), "referral": referral}
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "messages": [msg]}

    _, event, _ = _one(_payload("messages", value))

    assert (event.text, event.referral) == ("Hi", referral)


@pytest.mark.parametrize("state", ["read", "played", "deleted", "warning", "something_new"])
def test_every_status_value_is_kept_even_unknown_ones(state: str) -> None:
    st = {"id": "wamid.s", "status": state, "timestamp": "1750263773", "recipient_id": CUSTOMER}
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "statuses": [st]}

    topic, event, _ = _one(_payload("messages", value))

    assert (topic, event.status) == (STATUSES, state)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"object": "page", "entry": []}, "page"),
        ({"entry": "everything"}, "entry"),
        ({"entry": [1, 2]}, "entry"),
        ({"entry": [{"id": WABA, "changes": {"field": "messages"}}]}, "changes"),
        ({"entry": [{"id": WABA, "time": "soon", "changes": []}]}, "soon"),
        ([1, 2, 3], "payload"),
    ],
)
def test_unreadable_payload_shapes_are_kept_whole(payload: Any, reason: str) -> None:
    out = normalize(payload, "corr")

    assert out.events == []
    assert [(u.field, u.fragment) for u in out.unparsed] == [("<payload>", payload)]
    assert reason in out.unparsed[0].reason


@pytest.mark.parametrize(
    "change",
    [
        {"field": "messages", "value": "text"},
        {"value": {}},
        {"field": "messages", "value": {"metadata": "x", "messages": []}},
        {"field": "messages", "value": {"metadata": METADATA, "messages": "many"}},
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
    ],
)
def test_unreadable_changes_become_unparsed_events(change: dict[str, Any]) -> None:
    payload = {"entry": [{"id": WABA, "changes": [change]}]}

    out = normalize(payload, "corr")
    published = out.to_publish("corr")

    assert out.events == []
    assert len(published) == 1
    topic, event, key = published[0]
    assert (topic, key) == (WEBHOOKS_UNPARSED, WABA)
    assert isinstance(event, WebhookFragmentUnparsed)
    assert event.webhook_event_id == "corr"
    assert event.fragment in (change, change["value"])
    assert normalize(payload, "corr").to_publish("corr")[0][1].event_id == event.event_id


def test_reasons_never_carry_a_phone_number_in_clear() -> None:
    msg = {"from": CUSTOMER, "id": "wamid.x", "timestamp": "1", "type": "text",
           "text": {"body": "hi"}, "errors": [{"code": CUSTOMER + "x"}]}  # fmt: skip
    value = {"metadata": METADATA, "messages": [msg]}

    (unparsed,) = normalize(_payload("messages", value), "corr").unparsed

    assert CUSTOMER not in unparsed.reason
    assert "16***34" in unparsed.reason
