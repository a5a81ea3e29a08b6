"""Message webhook bodies and the Graph error body match Meta's documented payloads field for
field (§4.10, §4.7, §1.6), and carry 2026's identity fields for customers given as an
`Identity` (§9.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.sandbox.rules import webhook_envelopes
from services.sandbox.rules.codes import re_engagement
from services.sandbox.rules.identity import Identity
from services.sandbox.rules.inbound import message_item

WABA = "102290129340398"
PNID = "106540352242922"
DISPLAY = "15550783881"
CUSTOMER = "16505551234"
DETAILS_131047 = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_inbound_reply_button_tap_is_example_b() -> None:
    wamid = "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQThBREYwNzc2RDc2QjA1QTIwMgA="
    context = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA"
    item = message_item(
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "change-button", "title": "Change"},
            },
            "context": {"id": context},
        },
        wamid,
        _at(1749417010),
        DISPLAY,
        CUSTOMER,
    )
    body = webhook_envelopes.inbound(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wa_id=CUSTOMER,
        name="Pablo Morales",
        message=item,
    )
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
                            "contacts": [{"profile": {"name": "Pablo Morales"}, "wa_id": CUSTOMER}],
                            "messages": [
                                {
                                    "context": {"from": DISPLAY, "id": context},
                                    "from": CUSTOMER,
                                    "id": wamid,
                                    "timestamp": "1749417010",
                                    "type": "interactive",
                                    "interactive": {
                                        "type": "button_reply",
                                        "button_reply": {"id": "change-button", "title": "Change"},
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def test_a_system_message_has_no_contacts_block() -> None:
    item = message_item(
        {
            "type": "system",
            "system": {"body": "changed", "wa_id": "1", "type": "user_changed_number"},
        },
        "wamid.S",
        _at(1),
        DISPLAY,
        CUSTOMER,
    )
    value = webhook_envelopes.inbound(
        waba_id=WABA, phone_number_id=PNID, display=DISPLAY, wa_id=CUSTOMER, name="x", message=item
    )["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value


def test_delivered_with_pricing_is_example_d() -> None:
    body = webhook_envelopes.status(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wamid="wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
        state="delivered",
        at=_at(1750263773),
        recipient=CUSTOMER,
        callback="gw:7f3c2a9e:order-860198",
        pricing={
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "utility",
        },
    )
    assert body["entry"][0]["changes"][0] == {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
            "statuses": [
                {
                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                    "status": "delivered",
                    "timestamp": "1750263773",
                    "recipient_id": CUSTOMER,
                    "biz_opaque_callback_data": "gw:7f3c2a9e:order-860198",
                    "pricing": {
                        "billable": True,
                        "pricing_model": "PMP",
                        "type": "regular",
                        "category": "utility",
                    },
                }
            ],
        },
    }
    assert "time" not in body["entry"][0]


def test_failed_outside_the_window_is_example_e() -> None:
    body = webhook_envelopes.status(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wamid="wamid.E",
        state="failed",
        at=_at(1751142888),
        recipient=CUSTOMER,
        callback=None,
        error=re_engagement(),
    )
    (status,) = body["entry"][0]["changes"][0]["value"]["statuses"]
    assert status == {
        "id": "wamid.E",
        "status": "failed",
        "timestamp": "1751142888",
        "recipient_id": CUSTOMER,
        "errors": [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": DETAILS_131047},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
    }


def test_user_preferences_stop() -> None:
    body = webhook_envelopes.user_preference(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wa_id=CUSTOMER,
        value="stop",
        at=_at(1731705721),
    )
    change = body["entry"][0]["changes"][0]
    assert change["field"] == "user_preferences"
    assert change["value"] == {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
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


def test_error_body_is_the_graph_shape() -> None:
    assert webhook_envelopes.error_body(re_engagement(), "Az8or2") == {
        "error": {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {"messaging_product": "whatsapp", "details": re_engagement().details},
            "fbtrace_id": "Az8or2",
        }
    }


BSUID = "BR.8841203376615520"
PARENT = "BR.ENT.11815799212886844830"
ADOPTER = Identity(user_id=BSUID, username="ana.r")


def test_a_username_adopter_with_a_withheld_phone_is_metas_2026_example() -> None:
    item = message_item({"text": "Oi"}, "wamid.IN", _at(1780000000), DISPLAY, ADOPTER)
    value = webhook_envelopes.inbound(
        waba_id=WABA, phone_number_id=PNID, display=DISPLAY, wa_id=ADOPTER, name="Ana", message=item
    )["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [
        {"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID}
    ]
    assert value["messages"] == [
        {
            "from_user_id": BSUID,
            "id": "wamid.IN",
            "timestamp": "1780000000",
            "type": "text",
            "text": {"body": "Oi"},
        }
    ]


def _status_value(state: str, who: Identity) -> dict[str, Any]:
    body = webhook_envelopes.status(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wamid="wamid.OUT",
        state=state,
        at=_at(1780000000),
        recipient=who,
        callback=None,
        error=re_engagement() if state == "failed" else None,
        name="Ana",
    )
    value: dict[str, Any] = body["entry"][0]["changes"][0]["value"]
    return value


@pytest.mark.parametrize(
    ("state", "contacts"),
    [
        ("sent", [{"profile": {"name": "Ana"}, "user_id": BSUID}]),
        ("delivered", [{"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID}]),
        ("read", [{"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID}]),
        ("failed", None),
    ],
)
def test_a_status_of_a_send_to_a_bsuid(state: str, contacts: list[dict[str, Any]] | None) -> None:
    value = _status_value(state, ADOPTER)
    (status,) = value["statuses"]
    assert "recipient_id" not in status
    assert status["recipient_user_id"] == BSUID
    assert value.get("contacts") == contacts
    beside = ["contacts"] if contacts else []
    assert list(value) == ["messaging_product", "metadata", *beside, "statuses"]


def test_a_status_of_a_linked_portfolio_names_the_parent() -> None:
    who = Identity(wa_id=CUSTOMER, user_id=BSUID, parent_user_id=PARENT)
    (status,) = _status_value("delivered", who)["statuses"]
    assert (status["recipient_id"], status["recipient_user_id"]) == (CUSTOMER, BSUID)
    assert status["parent_recipient_user_id"] == PARENT


def test_user_preferences_of_a_customer_known_by_bsuid() -> None:
    value = webhook_envelopes.user_preference(
        waba_id=WABA,
        phone_number_id=PNID,
        display=DISPLAY,
        wa_id=ADOPTER,
        value="resume",
        at=_at(1731705721),
    )["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"user_id": BSUID}]
    (preference,) = value["user_preferences"]
    assert preference["user_id"] == BSUID and "wa_id" not in preference
    assert preference["value"] == "resume"
