"""Every reason code a decision or a delivery update can carry, said once. Policy and dispatch
name reasons only through this enum; Meta's error codes travel beside them as strings
(`"131026"`). A value is a `str`, so events keep `reasons: list[str]`."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # policy: the customer service window and the intent's own time
    WINDOW_CLOSED = "WINDOW_CLOSED"
    EXPIRED = "EXPIRED"
    FALLBACK_TEMPLATE = "FALLBACK_TEMPLATE"
    MESSAGE_UNKNOWN = "MESSAGE_UNKNOWN"  # a read receipt for no message the customer sent here
    # policy: consent, caps and limits
    OPTED_OUT = "OPTED_OUT"
    NO_OPT_IN = "NO_OPT_IN"
    MARKETING_OPTED_OUT = "MARKETING_OPTED_OUT"
    MARKETING_FREQUENCY_CAP = "MARKETING_FREQUENCY_CAP"
    QUIET_HOURS = "QUIET_HOURS"
    MESSAGING_LIMIT = "MESSAGING_LIMIT"
    US_MARKETING_PAUSED = "US_MARKETING_PAUSED"
    CUSTOMER_MARKETING_HELD = "CUSTOMER_MARKETING_HELD"
    # policy: whom the intent addresses
    INVALID_RECIPIENT = "INVALID_RECIPIENT"
    BSUID_AUTHENTICATION = "BSUID_AUTHENTICATION"
    THREAD_HELD_BY_AGENT = "THREAD_HELD_BY_AGENT"
    # policy: templates
    TEMPLATE_UNKNOWN = "TEMPLATE_UNKNOWN"
    TEMPLATE_PAUSED = "TEMPLATE_PAUSED"
    TEMPLATE_NOT_APPROVED = "TEMPLATE_NOT_APPROVED"
    TEMPLATE_PARAMETERS_MISMATCH = "TEMPLATE_PARAMETERS_MISMATCH"
    # policy: an intent it could not decide (a dead letter holds it)
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # dispatch
    NOT_AFTER_PASSED = "NOT_AFTER_PASSED"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    NOT_SENT = "NOT_SENT"
    OUTCOME_UNCONFIRMED = "OUTCOME_UNCONFIRMED"
    SEALED_PARAMETERS_UNREADABLE = "SEALED_PARAMETERS_UNREADABLE"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    REDECISIONS_EXHAUSTED = "REDECISIONS_EXHAUSTED"
    SENDER_HELD = "SENDER_HELD"
    PACED = "PACED"
    MARKETING_HOLDOUT = "MARKETING_HOLDOUT"
    # dispatch: customers' files (wagate.inbound.media.v1)
    MEDIA_FETCH_FAILED = "MEDIA_FETCH_FAILED"
    MEDIA_REFUSED = "MEDIA_REFUSED"
