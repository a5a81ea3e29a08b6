"""Meta's error objects: each row gives its code and title (the title is also the message), with
Meta's fixed details or the details of the case."""

from __future__ import annotations

from services.sandbox.rules import codes


def test_a_row_takes_the_details_of_the_case() -> None:
    error = codes.invalid_parameter("text.body is required")

    assert (error.code, error.title, error.message) == (
        100,
        "Invalid parameter",
        "Invalid parameter",
    )
    assert error.details == "text.body is required"


def test_a_fixed_row_says_what_meta_always_says_unless_told_otherwise() -> None:
    assert codes.throughput().details == "Cloud API message throughput has been reached."
    assert codes.access_token().details == "The access token could not be decrypted"
    assert codes.access_token("expired").details == "expired"
    assert codes.undeliverable().code == codes.UNDELIVERABLE == 131026


def test_missing_and_unapproved_templates_share_132001() -> None:
    missing = codes.template_missing("order_shipped", "en_US")
    pending = codes.template_not_approved("order_shipped", "en_US", "PENDING")

    assert missing.code == pending.code == 132001
    assert missing.title == pending.title
    assert missing.details == "template name (order_shipped) does not exist in en_US"
    assert pending.details == "template name (order_shipped) in en_US is PENDING, not APPROVED"


def test_template_format_errors_keep_their_own_codes() -> None:
    assert codes.bad_format(2388299, "edge").code == 2388299
    assert codes.bad_format(2388299, "edge").title == "Invalid format"
    too_long = codes.too_long("BODY.text", 1024)
    assert (too_long.code, too_long.details) == (
        2388040,
        "BODY.text is longer than 1024 characters",
    )
