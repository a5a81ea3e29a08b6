"""Read receipts and typing indicators (rules §1.5, §9.6): a receipt names a message the
customer sent to this number, in the customer service window; the typing indicator, when
given, is `{"type": "text"}`. Pure checks returning Meta's error (or None). Meta's pages do
not say what a receipt outside the window gets: the sandbox refuses it as a free-form send
(131047), synchronously."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.sandbox.rules import codes, sends
from shared.events.common import MetaError

RECEIPT_FIELDS = frozenset({"messaging_product", "status", "message_id", "typing_indicator"})


def check_receipt(
    payload: Mapping[str, Any],
    known: bool,
    last_customer_message_at: datetime | None,
    now: datetime,
) -> MetaError | None:
    """`known`: the message id is one the customer sent to this number;
    `last_customer_message_at`: that customer's latest message here."""
    if payload.get("messaging_product") != "whatsapp":
        return codes.invalid_parameter("messaging_product must be 'whatsapp'")
    extra = sorted(set(payload) - RECEIPT_FIELDS)
    if extra:
        return codes.invalid_parameter(f"Unexpected parameters for a read receipt: {extra}")
    message_id = payload.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        return codes.missing_parameter("message_id is required")
    typing = payload.get("typing_indicator")
    if typing is not None and typing != {"type": "text"}:
        return codes.invalid_parameter("typing_indicator must be {'type': 'text'}")
    if not known:
        return codes.invalid_value(f"message_id {message_id!r} is not a received message")
    return sends.check_window("text", last_customer_message_at, now)
