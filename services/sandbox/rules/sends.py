"""The Cloud API's send-time envelope and window rules, as pure checks returning Meta's error
(or None)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.sandbox.rules import codes
from services.sandbox.rules.addressing import check_addressee
from shared.events.common import MetaError
from shared.events.message_types import FREE_FORM, OUTBOUND

WINDOW = timedelta(hours=24)
CALLBACK_MAX = 512
invalid_parameter = codes.invalid_parameter


def check_envelope(payload: dict[str, object]) -> MetaError | None:
    """The fields every send request needs (§1.2; the addressee as of 2026, §9.1)."""
    if payload.get("messaging_product") != "whatsapp":
        return invalid_parameter("messaging_product must be 'whatsapp'")
    addressee = check_addressee(payload)
    if addressee is not None:
        return addressee
    if payload.get("recipient_type", "individual") not in ("individual", "group"):
        return invalid_parameter("recipient_type must be 'individual' or 'group'")
    kind = payload.get("type", "text")
    if kind not in OUTBOUND:
        return invalid_parameter(f"Unsupported message type '{kind}'")
    shape = list if kind == "contacts" else dict
    if not isinstance(payload.get(str(kind)), shape):
        return invalid_parameter(f"Parameter '{kind}' is required for type '{kind}'")
    return _check_extras(str(kind), payload)


def _check_extras(kind: str, payload: dict[str, object]) -> MetaError | None:
    callback = payload.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > CALLBACK_MAX):
        return invalid_parameter(
            f"biz_opaque_callback_data must be a string of at most {CALLBACK_MAX} characters"
        )
    context = payload.get("context")
    if context is not None:
        if kind == "reaction":
            return invalid_parameter("context is not allowed on reaction messages")
        if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
            return invalid_parameter("context.message_id is required")
    return None


def window_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    return last_customer_message_at is not None and now < last_customer_message_at + WINDOW


def check_window(
    kind: str, last_customer_message_at: datetime | None, now: datetime
) -> MetaError | None:
    """Free-form messages need an open 24-hour customer service window (131047)."""
    if kind in FREE_FORM and not window_open(last_customer_message_at, now):
        return codes.re_engagement()
    return None


def check_recipient(recipient: str, business_number: str) -> MetaError | None:
    """A business number cannot message itself (131021)."""
    if recipient == business_number:
        return codes.recipient_is_sender()
    return None
