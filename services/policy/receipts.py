"""Read receipts and typing indicators: pure. A receipt may go only inside the customer service
window (less the safety margin) and only for a message policy saw the customer send to this
number; its approval ends with the window, so it is never sent after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.policy import approval, windows
from services.policy.windows import WindowState
from shared.events.intents import ReadReceiptContent
from shared.events.reasons import Reason


@dataclass(frozen=True)
class ReceiptCheck:
    refusal: Reason | None  # None: approved
    detail: str
    valid_until: datetime | None = None


def check(
    content: ReadReceiptContent,
    window: WindowState | None,
    usable_until: datetime | None,
    now: datetime,
    not_after: datetime | None,
    closed_detail: str,
) -> ReceiptCheck:
    """`usable_until`: the window's end less the margin (None: no window, or Meta said it is
    closed); `closed_detail` says why the window is closed, when it is."""
    if usable_until is None or now >= usable_until:
        return ReceiptCheck(Reason.WINDOW_CLOSED, f"{closed_detail}; a read receipt needs it open")
    if not windows.sent_by_customer(window, content.message_id):
        return ReceiptCheck(
            Reason.MESSAGE_UNKNOWN,
            f"{content.message_id} is none of the latest {windows.RECENT_MESSAGES} messages "
            "the customer sent to this number",
        )
    return ReceiptCheck(
        None, "inside the customer service window", approval.earliest(usable_until, not_after)
    )
