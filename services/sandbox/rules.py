"""The Cloud API's send-time rules, as pure checks returning Meta's error (or None)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.events.common import MetaError

WINDOW = timedelta(hours=24)
FREE_FORM_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "reaction",
    }
)
SUPPORTED_TYPES = FREE_FORM_TYPES | {"template"}


def invalid_parameter(details: str) -> MetaError:
    return MetaError(
        code=100, title="Invalid parameter", message="Invalid parameter", details=details
    )


def check_envelope(payload: dict[str, object]) -> MetaError | None:
    """The fields every send request needs (§1.2)."""
    if payload.get("messaging_product") != "whatsapp":
        return invalid_parameter("messaging_product must be 'whatsapp'")
    to = payload.get("to")
    if not isinstance(to, str) or not to.strip():
        return invalid_parameter("Parameter 'to' is required")
    kind = payload.get("type", "text")
    if kind not in SUPPORTED_TYPES:
        return invalid_parameter(f"Unsupported message type '{kind}'")
    if not isinstance(payload.get(str(kind)), dict):
        return invalid_parameter(f"Parameter '{kind}' is required for type '{kind}'")
    return None


def check_text(text: dict[str, object]) -> MetaError | None:
    body = text.get("body")
    if not isinstance(body, str) or not body:
        return invalid_parameter("text.body is required")
    if len(body) > 4096:
        return invalid_parameter("text.body is longer than 4096 characters")
    return None


def window_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    return last_customer_message_at is not None and now < last_customer_message_at + WINDOW


def check_window(
    kind: str, last_customer_message_at: datetime | None, now: datetime
) -> MetaError | None:
    """Free-form messages need an open 24-hour customer service window (131047)."""
    if kind in FREE_FORM_TYPES and not window_open(last_customer_message_at, now):
        return MetaError(
            code=131047,
            title="Re-engagement message",
            message="Re-engagement message",
            details="Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        )
    return None
