"""Sends addressed by phone or BSUID (§9.1): `to` or `recipient` is required and `to` wins,
a BSUID only from its own portfolio's numbers (a parent from a linked one's), no authentication
template to a BSUID (131062), and the `contacts[]` of the send response."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.sandbox.rules import codes
from services.sandbox.rules.addressing import (
    LINKED,
    Address,
    address_of,
    check_addressee,
    check_bsuid_allowed,
    check_scope,
    response_contact,
    unknown_recipient,
)
from services.sandbox.rules.template_model import Template

PHONE = "16505551234"
BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"
HOME, OTHER = "200000000000001", "300000000000001"


def _request(**fields: Any) -> dict[str, Any]:
    body = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "Hi"}, **fields}
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param(_request(to=PHONE), id="phone"),
        pytest.param(_request(to="+1 (650) 555-1234"), id="phone-spelled-out"),
        pytest.param(_request(recipient=BSUID), id="bsuid"),
        pytest.param(_request(recipient=PARENT), id="parent-bsuid"),
        pytest.param(_request(to=PHONE, recipient=BSUID), id="both"),
        pytest.param(_request(to=None, recipient=BSUID), id="to-null"),
    ],
)
def test_a_send_names_a_phone_or_a_bsuid(request_body: dict[str, Any]) -> None:
    assert check_addressee(request_body) is None


@pytest.mark.parametrize(
    ("request_body", "details"),
    [
        pytest.param(_request(), "'to' (a phone number) or 'recipient'", id="neither"),
        pytest.param(_request(to="", recipient=BSUID), "'to'", id="empty-to-beside-recipient"),
        pytest.param(_request(to=BSUID), "BSUID goes in 'recipient'", id="bsuid-in-to"),
        pytest.param(_request(recipient="us.1349"), "'recipient' must start", id="lowercase"),
        pytest.param(_request(recipient="US1349"), "'recipient' needs", id="no-dot"),
        pytest.param(_request(recipient="US.13\r\n49"), "control character", id="crlf"),
        pytest.param(_request(recipient="US." + "1" * 140), "longer than", id="too-long"),
        pytest.param(_request(recipient=1349), "non-empty string", id="a-number"),
        pytest.param(_request(to=PHONE, recipient="US1349"), "'recipient'", id="bad-beside-to"),
    ],
)
def test_a_send_without_a_good_addressee_gets_100(
    request_body: dict[str, Any], details: str
) -> None:
    error = check_addressee(request_body)
    assert error is not None and error.code == 100
    assert details in (error.details or "")


@pytest.mark.parametrize(
    ("request_body", "address"),
    [
        pytest.param(
            _request(to="+1 650-555-1234"),
            Address("phone", PHONE, "+1 650-555-1234"),
            id="phone",
        ),
        pytest.param(_request(recipient=BSUID), Address("user_id", BSUID, BSUID), id="bsuid"),
        pytest.param(
            _request(to=PHONE, recipient="US.99"),
            Address("phone", PHONE, PHONE, both=True),
            id="to-wins",
        ),
    ],
)
def test_to_wins_over_recipient(request_body: dict[str, Any], address: Address) -> None:
    assert address_of(request_body) == address


@pytest.mark.parametrize(
    ("owner", "number_portfolio", "linked", "reason"),
    [
        pytest.param(HOME, HOME, True, None, id="own-portfolio"),
        pytest.param(OTHER, OTHER, False, None, id="own-portfolio-not-linked"),
        pytest.param(OTHER, HOME, True, "another business portfolio", id="other-portfolio"),
        pytest.param(HOME, OTHER, True, "another business portfolio", id="from-a-linked-one"),
        pytest.param(LINKED, OTHER, True, None, id="parent-from-linked"),
        pytest.param(LINKED, OTHER, False, "parent BSUID", id="parent-from-unlinked"),
    ],
)
def test_a_bsuid_is_valid_only_from_its_portfolio(
    owner: str, number_portfolio: str, linked: bool, reason: str | None
) -> None:
    error = check_scope(BSUID, owner, number_portfolio, linked)
    if reason is None:
        assert error is None
    else:
        assert error is not None and error.code == 100
        assert BSUID in (error.details or "") and reason in (error.details or "")


@pytest.mark.parametrize(
    ("retired", "reason"), [(False, "not a BSUID of any user"), (True, "changed phone number")]
)
def test_an_unknown_or_outdated_bsuid_gets_100(retired: bool, reason: str) -> None:
    error = unknown_recipient(BSUID, retired=retired)
    assert error.code == 100 and reason in (error.details or "")


def _template(name: str, category: str, otp_type: str | None = None) -> Template:
    components: list[dict[str, Any]] = [{"type": "BODY", "text": "Hello."}]
    if otp_type is not None:
        components = [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": otp_type}]},
        ]
    return Template(
        name, name, "en_US", category, tuple(components), datetime(2026, 1, 1, tzinfo=UTC)
    )


COPY_CODE = _template("code", "AUTHENTICATION", "COPY_CODE")
ONE_TAP = _template("one_tap", "AUTHENTICATION", "ONE_TAP")
ZERO_TAP = _template("zero_tap", "AUTHENTICATION", "ZERO_TAP")
UTILITY = _template("notice", "UTILITY")
BY_BSUID = Address("user_id", BSUID, BSUID)
BY_PARENT = Address("user_id", PARENT, PARENT)
BY_PHONE = Address("phone", PHONE, PHONE)
BY_BOTH = Address("phone", PHONE, PHONE, both=True)


@pytest.mark.parametrize(
    ("address", "template", "refused"),
    [
        pytest.param(BY_BSUID, COPY_CODE, True, id="copy-code-to-bsuid"),
        pytest.param(BY_BSUID, ONE_TAP, True, id="one-tap-to-bsuid"),
        pytest.param(BY_BSUID, ZERO_TAP, True, id="zero-tap-to-bsuid"),
        pytest.param(BY_PARENT, COPY_CODE, True, id="copy-code-to-parent"),
        pytest.param(BY_PHONE, COPY_CODE, False, id="copy-code-to-phone"),
        pytest.param(BY_BOTH, ZERO_TAP, False, id="zero-tap-to-both-to-wins"),
        pytest.param(BY_BSUID, UTILITY, False, id="utility-to-bsuid"),
        pytest.param(BY_BSUID, None, False, id="free-form-to-bsuid"),
    ],
)
def test_authentication_templates_need_a_phone_131062(
    address: Address, template: Template | None, refused: bool
) -> None:
    error = check_bsuid_allowed(address, template)
    if refused:
        assert error is not None and error.code == 131062
        assert error.title == codes.bsuid_unsupported.title
        assert error.title == (
            "Business-scoped User ID (BSUID) recipients are not supported for this message."
        )
    else:
        assert error is None


@pytest.mark.parametrize(
    ("address", "contact"),
    [
        pytest.param(BY_PHONE, {"input": PHONE, "wa_id": PHONE}, id="phone"),
        pytest.param(
            Address("phone", PHONE, "+1 650-555-1234"),
            {"input": "+1 650-555-1234", "wa_id": PHONE},
            id="phone-input-as-given",
        ),
        pytest.param(BY_BSUID, {"input": BSUID, "user_id": BSUID}, id="bsuid"),
        pytest.param(BY_PARENT, {"input": PARENT, "user_id": BSUID}, id="parent"),
        pytest.param(BY_BOTH, {"input": PHONE, "wa_id": PHONE, "user_id": BSUID}, id="both"),
    ],
)
def test_the_response_contact_says_what_was_addressed(
    address: Address, contact: dict[str, str]
) -> None:
    assert response_contact(address, BSUID) == contact
