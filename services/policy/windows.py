"""Customer service windows: pure state transitions from inbound customer messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.events.envelope import Model
from shared.events.webhooks import InboundMessageReceived

WINDOW = timedelta(hours=24)

# Customer messages that do not open or refresh the window: Meta does not document reactions
# as opening one (decided conservatively), and system/revoke/edit are not customer content.
NOT_OPENING = frozenset({"reaction", "system", "revoke", "edit", "unsupported"})


class WindowState(Model):
    """What policy keeps per (business number, customer)."""

    last_customer_message_at: AwareDatetime | None = None
    last_message_id: str | None = None

    @property
    def expires_at(self) -> datetime | None:
        if self.last_customer_message_at is None:
            return None
        return self.last_customer_message_at + WINDOW

    def is_open(self, now: datetime) -> bool:
        expires = self.expires_at
        return expires is not None and now < expires


def observe(state: WindowState | None, message: InboundMessageReceived) -> WindowState | None:
    """The window after `message`; None when the message changes nothing.

    Meta's own timestamp decides, and the latest wins even when events arrive out of order.
    """
    if message.message_type in NOT_OPENING:
        return None
    current = state or WindowState()
    last = current.last_customer_message_at
    if last is not None and message.timestamp <= last:
        return None
    return WindowState(
        last_customer_message_at=message.timestamp, last_message_id=message.message_id
    )
