"""What the console keeps and shows: never a sealed value, never a one-time code, and no
customer's phone in clear for a role that may not see it."""

from __future__ import annotations

import pytest

from services.console import masking

OTP_INTENT = {
    "intent_id": "otp-1",
    "to": "16505551234",
    "sealed": "gAAAA-secret",
    "content": {
        "type": "template",
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "Header"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "739201"}]},
            {"type": "button", "sub_type": "url", "index": "0",
             "parameters": [{"type": "payload", "payload": "739201"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "x", "sensitive": True}]},
        ],
    },
    "nested": [{"sealed": "gAAAA-again", "keep": 1}],
}  # fmt: skip


def test_unknown_category_redacts_every_body_and_button_parameter_and_drops_sealed() -> None:
    shown = masking.scrub(OTP_INTENT, unknown_category=True)
    text = str(shown)
    assert "739201" not in text and "gAAAA" not in text and "'x'" not in text
    assert shown["content"]["components"][0]["parameters"][0]["text"] == "Header"
    assert shown["nested"] == [{"keep": 1}]
    assert shown["content"]["components"][2]["parameters"][0]["type"] == "payload"


def test_a_known_category_redacts_only_what_is_marked() -> None:
    shown = masking.scrub(OTP_INTENT, unknown_category=False)
    components = shown["content"]["components"]
    assert components[1]["parameters"][0]["text"] == "739201"
    assert components[3]["parameters"][0]["text"] == "[redacted]"
    assert "sealed" not in shown


@pytest.mark.parametrize(
    ("value", "allowed", "shown"),
    [
        ("16505551234", False, "16***34"),
        ("16505551234", True, "16505551234"),
        ("+1 650-555-1234", False, "+1***34"),
        ("US.13491208655302741918", False, "US.13491208655302741918"),
        ("Maria", False, "Maria"),
        (None, False, ""),
    ],
)
def test_phone_numbers_by_role(value: str | None, allowed: bool, shown: str) -> None:
    assert masking.phone(value, allowed) == shown


def test_keys_json_and_free_text() -> None:
    assert masking.key("106540352242922:16505551234", False) == "106540352242922:16***34"
    masked = masking.phones_in({"to": "16505551234", "intent": {"wa_id": "16505551234"},
                                "phone_number_id": "106540352242922"}, False)  # fmt: skip
    assert masked == {"to": "16***34", "intent": {"wa_id": "16***34"},
                      "phone_number_id": "106540352242922"}  # fmt: skip
    text = masking.phones_in_text("call +1 (650) 555-1234 now", False)
    assert "555" not in text and text.startswith("call ") and text.endswith(" now")
