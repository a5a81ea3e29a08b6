"""Meta webhook payloads -> wagate events: every item of every entry and change, never a crash;
shapes that cannot be read are kept whole as unparsed fragments."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.normalize import Normalized, normalize
from shared.events.common import MetaError
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import INBOUND_MESSAGES, STATUSES, WEBHOOKS_UNPARSED
from tests.services.ingest.meta_payloads import webhook

WABA = "102290129340398"
PNID = "106540352242922"
DISPLAY = "15550783881"
CUSTOMER = "16505551234"
METADATA = {"display_phone_number": DISPLAY, "phone_number_id": PNID}
KEY = f"{PNID}:{CUSTOMER}"
CORRELATION = "webhook-7f3c2a9e"

TEXT_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
BUTTON_WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQThBREYwNzc2RDc2QjA1QTIwMgA="
ANSWERED_WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA"
OUTBOUND_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"
FAILED_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA"


def _payload(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def _entry(*changes: dict[str, Any], waba_id: str = WABA) -> dict[str, Any]:
    return {"id": waba_id, "changes": list(changes)}


def _messages_change(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    metadata: dict[str, str] = METADATA,
) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": metadata}
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"field": "messages", "value": value}


def _text_message(
    wamid: str = TEXT_WAMID, sender: str = CUSTOMER, body: str = "Does it come in another color?"
) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": body},
    }


# §4.10 (A): inbound text message.
PAYLOAD_A = _payload(
    _entry(
        _messages_change(
            contacts=[{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
            messages=[_text_message()],
        )
    )
)

# §4.10 (B): interactive reply-button tap, answering a business message.
PAYLOAD_B = _payload(
    _entry(
        _messages_change(
            contacts=[{"profile": {"name": "Pablo Morales"}, "wa_id": CUSTOMER}],
            messages=[
                {
                    "context": {"from": DISPLAY, "id": ANSWERED_WAMID},
                    "from": CUSTOMER,
                    "id": BUTTON_WAMID,
                    "timestamp": "1749417010",
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": "change-button", "title": "Change"},
                    },
                }
            ],
        )
    )
)

PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
WINDOW_ERROR = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


def _status(
    state: str,
    wamid: str = OUTBOUND_WAMID,
    timestamp: str = "1750263773",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": wamid,
        "status": state,
        "timestamp": timestamp,
        "recipient_id": CUSTOMER,
        **extra,
    }


# §4.10 (D): delivered with pricing and biz_opaque_callback_data.
DELIVERED = _status(
    "delivered", biz_opaque_callback_data="gw:7f3c2a9e:order-860198", pricing=PRICING
)
SENT = _status(
    "sent",
    timestamp="1750263700",
    biz_opaque_callback_data="gw:7f3c2a9e:order-860198",
    pricing=PRICING,
)
# §4.10 (E): failed, 24-hour window violated.
FAILED = _status("failed", wamid=FAILED_WAMID, timestamp="1751142888", errors=[WINDOW_ERROR])

# §4.10 (F): a template status update, a field ingest does not handle yet.
TEMPLATE_PAUSED_CHANGE = {
    "field": "message_template_status_update",
    "value": {
        "event": "PAUSED",
        "message_template_id": 1689556908129832,
        "message_template_name": "order_confirmation",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
        "other_info": {
            "title": "FIRST_PAUSE",
            "description": "Your WhatsApp message template has been paused.",
        },
    },
}
PAYLOAD_F = {
    "object": "whatsapp_business_account",
    "entry": [{"id": WABA, "time": 1751247548, "changes": [TEMPLATE_PAUSED_CHANGE]}],
}


def _without(item: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != name}


def _only_event(out: Normalized) -> tuple[Any, Any, str]:
    assert out.unparsed == []
    assert len(out.events) == 1
    return out.events[0]


def test_inbound_text_message() -> None:
    topic, event, key = _only_event(normalize(PAYLOAD_A, CORRELATION))

    assert topic is INBOUND_MESSAGES
    assert key == KEY
    assert isinstance(event, InboundMessageReceived)
    assert event.waba_id == WABA
    assert event.phone_number_id == PNID
    assert event.display_phone_number == DISPLAY
    assert event.wa_id == CUSTOMER
    assert event.contact_name == "Sheena Nelson"
    assert event.message_id == TEXT_WAMID
    assert event.timestamp == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)
    assert event.message_type == "text"
    assert event.text == "Does it come in another color?"
    assert event.content == {"body": "Does it come in another color?"}
    assert event.context_message_id is None
    assert event.referral is None
    assert event.errors == []
    assert event.correlation_id == CORRELATION
    assert event.producer == "ingest"


def test_interactive_button_reply_keeps_its_context_and_object() -> None:
    topic, event, key = _only_event(normalize(PAYLOAD_B, CORRELATION))

    assert topic is INBOUND_MESSAGES
    assert key == KEY
    assert isinstance(event, InboundMessageReceived)
    assert event.message_type == "interactive"
    assert event.text is None
    assert event.context_message_id == ANSWERED_WAMID
    assert event.content == {
        "type": "button_reply",
        "button_reply": {"id": "change-button", "title": "Change"},
    }
    assert event.contact_name == "Pablo Morales"
    assert event.timestamp == datetime(2025, 6, 8, 21, 10, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "message_type", "content"),
    [
        pytest.param(
            {
                "type": "button",
                "button": {"payload": "OPT_OUT_MARKETING", "text": "Stop promotions"},
            },
            "button",
            {"payload": "OPT_OUT_MARKETING", "text": "Stop promotions"},
            id="template-quick-reply",
        ),
        pytest.param(
            {"type": "reaction", "reaction": {"message_id": OUTBOUND_WAMID, "emoji": "👍"}},
            "reaction",
            {"message_id": OUTBOUND_WAMID, "emoji": "👍"},
            id="reaction",
        ),
        pytest.param(
            {
                "type": "image",
                "image": {"id": "1013859600285441", "mime_type": "image/jpeg", "sha256": "abc="},
            },
            "image",
            {"id": "1013859600285441", "mime_type": "image/jpeg", "sha256": "abc="},
            id="image",
        ),
        pytest.param(
            {
                "type": "unsupported",
                "errors": [{"code": 131051, "title": "Message type unknown"}],
            },
            "unsupported",
            {},
            id="unsupported-without-object",
        ),
    ],
)
def test_other_inbound_types_carry_their_own_object(
    message: dict[str, Any], message_type: str, content: dict[str, Any]
) -> None:
    item = {"from": CUSTOMER, "id": "wamid.other", "timestamp": "1750091045", **message}
    payload = _payload(_entry(_messages_change(messages=[item])))

    _, event, _ = _only_event(normalize(payload, CORRELATION))

    assert event.message_type == message_type
    assert event.content == content
    assert event.text is None
    assert event.contact_name is None


def test_inbound_errors_and_referral_are_kept() -> None:
    referral = {"source_type": "ad", "source_id": "120207", "ctwa_clid": "ARAkLkA8rmlF"}
    item = {
        "from": CUSTOMER,
        "id": "wamid.unsupported",
        "timestamp": "1750091045",
        "type": "unsupported",
        "referral": referral,
        "errors": [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
    }

    _, event, _ = _only_event(normalize(_payload(_entry(_messages_change(messages=[item]))), "c"))

    assert event.referral == referral
    assert event.errors == [
        MetaError(
            code=131051,
            title="Message type unknown",
            message="Message type unknown",
            details="Message type is currently not supported.",
        )
    ]


@pytest.mark.parametrize(
    ("status", "wamid", "at", "callback", "pricing", "errors"),
    [
        pytest.param(
            SENT,
            OUTBOUND_WAMID,
            datetime(2025, 6, 18, 16, 21, 40, tzinfo=UTC),
            "gw:7f3c2a9e:order-860198",
            PRICING,
            [],
            id="sent",
        ),
        pytest.param(
            DELIVERED,
            OUTBOUND_WAMID,
            datetime(2025, 6, 18, 16, 22, 53, tzinfo=UTC),
            "gw:7f3c2a9e:order-860198",
            PRICING,
            [],
            id="delivered",
        ),
        pytest.param(
            FAILED,
            FAILED_WAMID,
            datetime(2025, 6, 28, 20, 34, 48, tzinfo=UTC),
            None,
            None,
            [
                MetaError(
                    code=131047,
                    title="Re-engagement message",
                    message="Re-engagement message",
                    details="Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number.",
                    href="https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                )
            ],
            id="failed",
        ),
    ],
)
def test_statuses(
    status: dict[str, Any],
    wamid: str,
    at: datetime,
    callback: str | None,
    pricing: dict[str, Any] | None,
    errors: list[MetaError],
) -> None:
    payload = _payload(_entry(_messages_change(statuses=[status])))

    topic, event, key = _only_event(normalize(payload, CORRELATION))

    assert topic is STATUSES
    assert key == KEY
    assert isinstance(event, MessageStatusReported)
    assert event.status == status["status"]
    assert event.message_id == wamid
    assert event.timestamp == at
    assert event.recipient_id == CUSTOMER
    assert event.waba_id == WABA
    assert event.phone_number_id == PNID
    assert event.biz_opaque_callback_data == callback
    assert event.pricing == pricing
    assert event.errors == errors
    assert event.correlation_id == CORRELATION
    assert event.producer == "ingest"


def test_every_entry_change_and_item_is_normalised_in_order() -> None:
    other_pnid, other_waba, other_customer = "106540352242999", "102290129340999", "447700900123"
    payload = _payload(
        _entry(
            _messages_change(
                messages=[_text_message("wamid.m1"), _text_message("wamid.m2", body="Hello?")],
                statuses=[SENT, DELIVERED],
            ),
            _messages_change(statuses=[FAILED]),
        ),
        _entry(
            _messages_change(
                messages=[_text_message("wamid.m3", sender=other_customer)],
                metadata={"display_phone_number": "15550009999", "phone_number_id": other_pnid},
            ),
            waba_id=other_waba,
        ),
    )

    out = normalize(payload, CORRELATION)

    assert out.unparsed == []
    summary = [(topic.name, e.message_id, e.waba_id, key) for topic, e, key in out.events]
    assert summary == [
        (INBOUND_MESSAGES.name, "wamid.m1", WABA, KEY),
        (INBOUND_MESSAGES.name, "wamid.m2", WABA, KEY),
        (STATUSES.name, OUTBOUND_WAMID, WABA, KEY),
        (STATUSES.name, OUTBOUND_WAMID, WABA, KEY),
        (STATUSES.name, FAILED_WAMID, WABA, KEY),
        (INBOUND_MESSAGES.name, "wamid.m3", other_waba, f"{other_pnid}:{other_customer}"),
    ]
    assert [getattr(e, "status", None) for _, e, _ in out.events] == [
        None,
        None,
        "sent",
        "delivered",
        "failed",
        None,
    ]


HISTORY_CHANGE = {
    "field": "history",
    "value": {"messaging_product": "whatsapp", "metadata": METADATA, "history": [{"threads": []}]},
}


def test_a_field_not_understood_is_reported_unparsed() -> None:
    out = normalize(_payload(_entry(HISTORY_CHANGE)), CORRELATION)

    assert out.events == []
    assert len(out.unparsed) == 1
    unparsed = out.unparsed[0]
    assert unparsed.field == "history"
    assert unparsed.fragment == HISTORY_CHANGE
    assert unparsed.waba_id == WABA


def test_a_field_not_understood_does_not_hide_messages_in_the_same_payload() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA, "time": 1751247548, "changes": [HISTORY_CHANGE, TEMPLATE_PAUSED_CHANGE]},
            _entry(_messages_change(messages=[_text_message()])),
        ],
    }

    out = normalize(payload, CORRELATION)

    assert [u.field for u in out.unparsed] == ["history"]
    assert [t.name for t, _, _ in out.events] == [
        "wagate.template.updates.v1",
        INBOUND_MESSAGES.name,
    ]
    assert out.events[1][1].event_id == normalize(PAYLOAD_A, CORRELATION).events[0][1].event_id


@pytest.mark.parametrize(
    ("broken", "missing"),
    [
        pytest.param(_without(_text_message("wamid.bad"), "from"), "from", id="without-from"),
        pytest.param(_without(_text_message("wamid.bad"), "id"), "id", id="without-id"),
        pytest.param(_without(_text_message("wamid.bad"), "type"), "type", id="without-type"),
        pytest.param(
            {**_text_message("wamid.bad"), "timestamp": "yesterday"},
            "yesterday",
            id="bad-timestamp",
        ),
    ],
)
def test_a_malformed_message_is_unparsed_and_the_good_one_still_becomes_an_event(
    broken: dict[str, Any], missing: str
) -> None:
    payload = _payload(_entry(_messages_change(messages=[broken, _text_message()])))

    out = normalize(payload, CORRELATION)

    assert [e.message_id for _, e, _ in out.events] == [TEXT_WAMID]
    assert len(out.unparsed) == 1
    assert out.unparsed[0].field == "messages"
    assert out.unparsed[0].fragment == broken
    assert missing in out.unparsed[0].reason


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(_without(SENT, "recipient_id"), id="no-recipient"),
        pytest.param(_without(SENT, "status"), id="no-status"),
        pytest.param({**SENT, "timestamp": "not-a-number"}, id="bad-timestamp"),
    ],
)
def test_a_malformed_status_is_unparsed_and_messages_of_the_payload_survive(
    broken: dict[str, Any],
) -> None:
    payload = _payload(
        _entry(_messages_change(messages=[_text_message()], statuses=[broken, DELIVERED]))
    )

    out = normalize(payload, CORRELATION)

    assert [(t.name, e.message_id) for t, e, _ in out.events] == [
        (INBOUND_MESSAGES.name, TEXT_WAMID),
        (STATUSES.name, OUTBOUND_WAMID),
    ]
    assert [(u.field, u.fragment) for u in out.unparsed] == [("messages", broken)]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty"),
        pytest.param({"object": "whatsapp_business_account", "entry": []}, id="no-entries"),
        pytest.param({"object": "whatsapp_business_account", "entry": None}, id="null-entries"),
        pytest.param(_payload({"id": WABA}), id="entry-without-changes"),
        pytest.param(_payload(_entry(_messages_change())), id="value-without-items"),
    ],
)
def test_payloads_without_items_give_nothing(payload: dict[str, Any]) -> None:
    out = normalize(payload, CORRELATION)

    assert out.events == []
    assert out.unparsed == []


def test_normalising_the_same_payload_twice_gives_the_same_event_ids() -> None:
    payload = _payload(
        _entry(_messages_change(messages=[_text_message()], statuses=[SENT, DELIVERED, FAILED]))
    )

    first = normalize(payload, "delivery-1")
    again = normalize(copy.deepcopy(payload), "delivery-2")

    assert [e.event_id for _, e, _ in first.events] == [e.event_id for _, e, _ in again.events]
    assert len({e.event_id for _, e, _ in first.events}) == 4


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            _messages_change(messages=[_text_message("wamid.one")]),
            _messages_change(messages=[_text_message("wamid.two")]),
            id="inbound-different-wamids",
        ),
        pytest.param(
            _messages_change(statuses=[_status("sent", wamid="wamid.one")]),
            _messages_change(statuses=[_status("sent", wamid="wamid.two")]),
            id="status-different-wamids",
        ),
        pytest.param(
            _messages_change(statuses=[_status("sent")]),
            _messages_change(statuses=[_status("delivered")]),
            id="status-same-wamid-other-status",
        ),
        pytest.param(
            _messages_change(messages=[_text_message("wamid.same")]),
            _messages_change(statuses=[_status("sent", wamid="wamid.same")]),
            id="inbound-and-status-same-wamid",
        ),
    ],
)
def test_different_facts_get_different_event_ids(a: dict[str, Any], b: dict[str, Any]) -> None:
    ((_, first, _),) = normalize(_payload(_entry(a)), CORRELATION).events
    ((_, second, _),) = normalize(_payload(_entry(b)), CORRELATION).events

    assert first.event_id != second.event_id


def test_same_status_redelivered_with_another_timestamp_keeps_its_id() -> None:
    ((_, first, _),) = normalize(_payload(_entry(_messages_change(statuses=[SENT]))), "c").events
    retried = {**SENT, "timestamp": "1750263799"}
    ((_, second, _),) = normalize(
        _payload(_entry(_messages_change(statuses=[retried]))), "c"
    ).events

    assert first.event_id == second.event_id


@pytest.mark.parametrize(
    ("sender", "key"),
    [
        (CUSTOMER, f"{PNID}:{CUSTOMER}"),
        ("447700900123", f"{PNID}:447700900123"),
    ],
)
def test_keys_are_phone_number_id_and_wa_id(sender: str, key: str) -> None:
    payload = _payload(
        _entry(
            _messages_change(
                messages=[_text_message(sender=sender)],
                statuses=[{**SENT, "recipient_id": sender}],
            )
        )
    )

    out = normalize(payload, CORRELATION)

    assert [k for _, _, k in out.events] == [key, key]


def test_the_contact_name_is_matched_by_wa_id() -> None:
    payload = _payload(
        _entry(
            _messages_change(
                contacts=[
                    {"profile": {"name": "Pablo Morales"}, "wa_id": "447700900123"},
                    {"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER},
                ],
                messages=[_text_message("wamid.a"), _text_message("wamid.b", "447700900123")],
            )
        )
    )

    out = normalize(payload, CORRELATION)

    assert [e.contact_name for _, e, _ in out.events] == [
        "Sheena Nelson",
        "Pablo Morales",
    ]


def test_value_level_errors_are_reported_for_the_business_number() -> None:
    error = {
        "code": 130429,
        "title": "Rate limit hit",
        "message": "Rate limit hit",
        "error_data": {
            "details": "Message failed to send because there were too many messages sent from "
            "this phone number in a short period of time"
        },
    }
    change = {
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": METADATA, "errors": [error]},
    }

    out = normalize(_payload(_entry(change)), CORRELATION)

    assert out.unparsed == []
    ((topic, event, key),) = out.events
    assert topic.name == "wagate.webhook.errors.v1"
    assert key == PNID
    assert event.phone_number_id == PNID
    assert event.error == MetaError(
        code=130429,
        title="Rate limit hit",
        message="Rate limit hit",
        details="Message failed to send because there were too many messages sent from this "
        "phone number in a short period of time",
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"object": "page", "entry": []}, "page"),
        ({"entry": "everything"}, "`entry` is not a list"),
        ([1, 2, 3], "`payload` is not an object"),
    ],
)
def test_unreadable_payload_shapes_are_kept_whole(payload: Any, reason: str) -> None:
    out = normalize(payload, "corr")

    assert out.events == []
    assert [(u.field, u.fragment) for u in out.unparsed] == [("<payload>", payload)]
    assert out.unparsed[0].reason == f"malformed: {reason}" or reason in out.unparsed[0].reason


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (1, "not an object"),
        ({"id": WABA, "changes": {"field": "messages"}}, "`changes` is not a list"),
        ({"id": WABA, "time": "soon", "changes": []}, "`time` is not epoch seconds: 'soon'"),
        ({"id": "WABA\r\n", "changes": []}, "`id` is not a Graph id (digits)"),
    ],
)
def test_an_unreadable_entry_is_kept_whole_and_its_neighbours_are_read(
    entry: Any, reason: str
) -> None:
    payload = _payload(entry, _entry(_messages_change(messages=[_text_message()])))

    out = normalize(payload, "corr")

    assert [e.message_id for _, e, _ in out.events] == [TEXT_WAMID]
    assert [(u.field, u.fragment, u.reason) for u in out.unparsed] == [
        ("<entry>", entry, f"malformed: entry[0]: {reason}")
    ]


UNREADABLE_CHANGES = [
    {"field": "messages", "value": "text"},
    {"value": {}},
    {"field": "messages\r\nX-Injected: 1", "value": {}},
    {"field": "messages", "value": {"metadata": "x", "messages": []}},
    {"field": "messages", "value": {"messaging_product": "instagram", "metadata": METADATA}},
    {"field": "messages", "value": {"messages": [_text_message()]}},
    {"field": "messages", "value": {"metadata": {"phone_number_id": ""}, "messages": []}},
    {"field": "messages", "value": {"metadata": METADATA, "messages": "many"}},
    {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
]
FRAGMENTS = [
    UNREADABLE_CHANGES[0],
    UNREADABLE_CHANGES[1],
    UNREADABLE_CHANGES[2],
    UNREADABLE_CHANGES[3]["value"],
    UNREADABLE_CHANGES[4]["value"],
    UNREADABLE_CHANGES[5]["value"],
    UNREADABLE_CHANGES[6]["value"],
    "many",
    UNREADABLE_CHANGES[8],
]


@pytest.mark.parametrize(
    ("change", "fragment"), list(zip(UNREADABLE_CHANGES, FRAGMENTS, strict=True))
)
def test_unreadable_changes_become_unparsed_events(change: dict[str, Any], fragment: Any) -> None:
    payload = {"entry": [{"id": WABA, "changes": [change]}]}

    out = normalize(payload, "corr")
    published = out.to_publish("corr")

    assert out.events == []
    assert len(published) == 1
    topic, event, key = published[0]
    assert (topic, key) == (WEBHOOKS_UNPARSED, WABA)
    assert isinstance(event, WebhookFragmentUnparsed)
    assert event.webhook_event_id == "corr"
    assert event.fragment == fragment
    assert event.reason.startswith("malformed: entry[0].changes[0]")
    assert normalize(payload, "corr").to_publish("corr")[0][1].event_id == event.event_id


def test_reasons_never_carry_a_phone_number_in_clear() -> None:
    msg = {"from": CUSTOMER, "id": "wamid.x", "timestamp": CUSTOMER + "x", "type": "text",
           "text": {"body": "hi"}}  # fmt: skip
    value = {"metadata": METADATA, "messages": [msg]}

    (unparsed,) = normalize(webhook("messages", value), "corr").unparsed

    assert CUSTOMER not in unparsed.reason
    assert "16***34" in unparsed.reason
