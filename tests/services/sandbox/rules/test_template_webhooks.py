"""Template webhook bodies match Meta's documented payloads field for field (§2.8)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.sandbox.rules import template_webhooks
from services.sandbox.rules.template_model import Template

WABA = "102290129340398"


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


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
