"""Webhook bodies match Meta's documented payloads field for field (§4.10, §4.7, §2.8)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.sandbox.rules import template_webhooks, webhook_envelopes
from services.sandbox.rules.codes import re_engagement
from services.sandbox.rules.inbound import message_item
from services.sandbox.rules.template_model import Template

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


def _template(status: str = "PAUSED", category: str = "UTILITY") -> Template:
    return Template(
        "1689556908129832", "order_confirmation", "en_US", category, (), _at(0), status=status
    )


def test_template_paused_is_example_f() -> None:
    body = template_webhooks.status_update(
        WABA, _template(), _at(1751247548), other_info=template_webhooks.pause_info(1)
    )
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "time": 1751247548,
                "changes": [
                    {
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
                ],
            }
        ],
    }


def test_rejection_carries_rejection_info_and_disabling_a_date() -> None:
    rejected = template_webhooks.status_update(
        WABA, _template("REJECTED"), _at(5), reason="INVALID_FORMAT", recommendation="Fix {{1}}"
    )["entry"][0]["changes"][0]["value"]
    assert rejected["reason"] == "INVALID_FORMAT"
    assert rejected["rejection_info"] == {"reason": "INVALID_FORMAT", "recommendation": "Fix {{1}}"}
    disabled = template_webhooks.status_update(WABA, _template("DISABLED"), _at(5))
    assert disabled["entry"][0]["changes"][0]["value"]["disable_info"] == {"disable_date": 5}


def test_category_notice_is_example_g() -> None:
    template = Template("278077987957091", "welcome_template", "en_US", "UTILITY", (), _at(0))
    body = template_webhooks.category_notice(
        WABA, template, "MARKETING", _at(1746169200), _at(1746082800)
    )
    assert body["entry"] == [
        {
            "id": WABA,
            "time": 1746082800,
            "changes": [
                {
                    "field": "template_category_update",
                    "value": {
                        "message_template_id": 278077987957091,
                        "message_template_name": "welcome_template",
                        "message_template_language": "en_US",
                        "new_category": "UTILITY",
                        "correct_category": "MARKETING",
                        "category_update_timestamp": 1746169200,
                    },
                }
            ],
        }
    ]


def test_category_change_and_quality_update() -> None:
    changed = template_webhooks.category_update(
        WABA, _template("APPROVED", "MARKETING"), "UTILITY", _at(9)
    )
    assert changed["entry"][0]["changes"][0]["value"] == {
        "message_template_id": 1689556908129832,
        "message_template_name": "order_confirmation",
        "message_template_language": "en_US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    rated = Template("1", "t", "en_US", "UTILITY", (), _at(0), quality="RED")
    quality = template_webhooks.quality_update(WABA, rated, "GREEN", _at(9))
    change = quality["entry"][0]["changes"][0]
    assert change["field"] == "message_template_quality_update"
    assert change["value"] == {
        "previous_quality_score": "GREEN",
        "new_quality_score": "RED",
        "message_template_id": 1,
        "message_template_name": "t",
        "message_template_language": "en_US",
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
