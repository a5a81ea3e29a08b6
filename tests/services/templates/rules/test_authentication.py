"""AUTHENTICATION templates: fixed OTP body, OTP button kinds, expiry, TTL, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from services.templates.rules.authentication import OTP_BODY
from services.templates.rules.validation import check
from tests.services.templates.builders import (
    APP,
    auth,
    body,
    buttons,
    footer,
    media_header,
    otp_button,
    quick,
)

OK: set[tuple[str, str]] = set()
BODY = {"type": "BODY", "add_security_recommendation": True}
EXPIRY = {"type": "FOOTER", "code_expiration_minutes": 10}

CASES: list[tuple[str, dict[str, Any], set[tuple[str, str]]]] = [
    ("copy code", auth(), OK),
    ("preset body text given", auth({"type": "BODY", "text": OTP_BODY}, buttons(otp_button())), OK),
    ("minimal", auth(BODY, buttons(otp_button())), OK),
    (
        "custom body text",
        auth(body("Your code is {{1}} ok.", "1"), buttons(otp_button())),
        {("components[0].text", "FIXED_BODY")},
    ),
    (
        "security flag not a boolean",
        auth({"type": "BODY", "add_security_recommendation": "yes"}, buttons(otp_button())),
        {("components[0].add_security_recommendation", "INVALID_FLAG")},
    ),
    (
        "expiry 1",
        auth(BODY, {"type": "FOOTER", "code_expiration_minutes": 1}, buttons(otp_button())),
        OK,
    ),
    (
        "expiry 90",
        auth(BODY, {"type": "FOOTER", "code_expiration_minutes": 90}, buttons(otp_button())),
        OK,
    ),
    (
        "expiry 91",
        auth(BODY, {"type": "FOOTER", "code_expiration_minutes": 91}, buttons(otp_button())),
        {("components[1].code_expiration_minutes", "INVALID_EXPIRY")},
    ),
    (
        "expiry 0",
        auth(BODY, {"type": "FOOTER", "code_expiration_minutes": 0}, buttons(otp_button())),
        {("components[1].code_expiration_minutes", "INVALID_EXPIRY")},
    ),
    (
        "footer text",
        auth(BODY, footer("Do not share"), buttons(otp_button())),
        {("components[1].text", "FIXED_FOOTER")},
    ),
    (
        "media header",
        auth(media_header("IMAGE"), BODY, buttons(otp_button())),
        {("components[0]", "HEADER_NOT_ALLOWED")},
    ),
    ("no button", auth(BODY, EXPIRY), {("components", "OTP_BUTTON_REQUIRED")}),
    (
        "quick reply instead of OTP",
        auth(BODY, buttons(quick())),
        {("components[1].buttons[0].type", "OTP_BUTTON_REQUIRED")},
    ),
    (
        "two OTP buttons",
        auth(BODY, buttons(otp_button(), otp_button())),
        {("components[1].buttons", "OTP_BUTTON_REQUIRED")},
    ),
    (
        "unknown otp type",
        auth(BODY, buttons(otp_button("TWO_TAP"))),
        {("components[1].buttons[0].otp_type", "INVALID_OTP_TYPE")},
    ),
    ("copy code label", auth(BODY, buttons(otp_button(text="Copy code"))), OK),
    (
        "label too long",
        auth(BODY, buttons(otp_button(text="x" * 26))),
        {("components[1].buttons[0].text", "TOO_LONG")},
    ),
    (
        "label with URL",
        auth(BODY, buttons(otp_button(text="see www.x.com"))),
        {("components[1].buttons[0].text", "URL_NOT_ALLOWED")},
    ),
    (
        "label with emoji",
        auth(BODY, buttons(otp_button(text="Copy \U0001f511"))),
        {("components[1].buttons[0].text", "EMOJI_NOT_ALLOWED")},
    ),
    (
        "one tap",
        auth(BODY, buttons(otp_button("ONE_TAP", autofill_text="Autofill", supported_apps=[APP]))),
        OK,
    ),
    (
        "one tap autofill too long",
        auth(BODY, buttons(otp_button("ONE_TAP", autofill_text="x" * 26, supported_apps=[APP]))),
        {("components[1].buttons[0].autofill_text", "TOO_LONG")},
    ),
    (
        "one tap without apps",
        auth(BODY, buttons(otp_button("ONE_TAP"))),
        {("components[1].buttons[0].supported_apps", "APPS_REQUIRED")},
    ),
    (
        "one tap six apps",
        auth(BODY, buttons(otp_button("ONE_TAP", supported_apps=[APP] * 6))),
        {("components[1].buttons[0].supported_apps", "TOO_MANY_APPS")},
    ),
    (
        "one tap five apps",
        auth(BODY, buttons(otp_button("ONE_TAP", supported_apps=[APP] * 5))),
        OK,
    ),
    (
        "signature hash of 10",
        auth(
            BODY,
            buttons(
                otp_button(
                    "ONE_TAP",
                    supported_apps=[{"package_name": "com.a.b", "signature_hash": "x" * 10}],
                )
            ),
        ),
        {("components[1].buttons[0].supported_apps[0].signature_hash", "INVALID_SIGNATURE_HASH")},
    ),
    (
        "bad package",
        auth(
            BODY,
            buttons(
                otp_button(
                    "ONE_TAP",
                    supported_apps=[{"package_name": "example", "signature_hash": "x" * 11}],
                )
            ),
        ),
        {("components[1].buttons[0].supported_apps[0].package_name", "INVALID_PACKAGE")},
    ),
    (
        "zero tap",
        auth(
            BODY,
            buttons(otp_button("ZERO_TAP", supported_apps=[APP], zero_tap_terms_accepted=True)),
        ),
        OK,
    ),
    (
        "zero tap without terms",
        auth(BODY, buttons(otp_button("ZERO_TAP", supported_apps=[APP]))),
        {("components[1].buttons[0].zero_tap_terms_accepted", "TERMS_NOT_ACCEPTED")},
    ),
    (
        "zero tap without apps",
        auth(BODY, buttons(otp_button("ZERO_TAP", zero_tap_terms_accepted=True))),
        {("components[1].buttons[0].supported_apps", "APPS_REQUIRED")},
    ),
    ("ttl 30", auth(message_send_ttl_seconds=30), OK),
    ("ttl 900", auth(message_send_ttl_seconds=900), OK),
    ("ttl 901", auth(message_send_ttl_seconds=901), {("message_send_ttl_seconds", "INVALID_TTL")}),
    ("ttl 29", auth(message_send_ttl_seconds=29), {("message_send_ttl_seconds", "INVALID_TTL")}),
]


@pytest.mark.parametrize(("case", "tpl", "expected"), CASES, ids=[c[0] for c in CASES])
def test_authentication_rules(
    case: str, tpl: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    verdict = check(tpl)
    assert {(e.field, e.code) for e in verdict.errors} == expected
