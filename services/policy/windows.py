"""Customer service windows and free entry points: pure state transitions."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.events.envelope import Model
from shared.events.message_types import NOT_OPENING_WINDOW
from shared.events.webhooks import InboundMessageReceived

WINDOW = timedelta(hours=24)
FEP_REPLY_WITHIN = timedelta(hours=24)
FEP_LENGTH = timedelta(hours=72)
RECENT_MESSAGES = 100  # the customer's message ids kept, for read receipts


class WindowState(Model):
    """What policy keeps per (business number, customer)."""

    last_customer_message_at: AwareDatetime | None = None
    last_message_id: str | None = None
    referral_at: AwareDatetime | None = None
    free_entry_until: AwareDatetime | None = None
    recent_message_ids: tuple[str, ...] = ()  # the customer's latest messages, oldest first

    @property
    def expires_at(self) -> datetime | None:
        if self.last_customer_message_at is None:
            return None
        return self.last_customer_message_at + WINDOW

    def is_open(self, now: datetime) -> bool:
        expires = self.expires_at
        return expires is not None and now < expires

    def in_free_entry_point(self, now: datetime) -> bool:
        return self.free_entry_until is not None and now < self.free_entry_until


def seen_at(message: InboundMessageReceived, now: datetime, skew: timedelta) -> datetime:
    """When the customer wrote, as far as we can know: Meta's timestamp, unless it lies later
    than the time ingest received the message (`occurred_at`, never later than `now`) plus
    `skew`; then the receive time. A corrupted clock or a value in milliseconds never opens a
    window beyond what we saw."""
    return bounded(message.timestamp, min(message.occurred_at, now), skew)


def bounded(at: datetime, received: datetime, skew: timedelta) -> datetime:
    """`at`, or `received` when `at` lies more than `skew` after it."""
    return received if at > received + skew else at


def observe(
    state: WindowState | None, message: InboundMessageReceived, at: datetime | None = None
) -> WindowState | None:
    """The window after `message`, written at `at` (default: Meta's timestamp; see `seen_at`);
    None when the message changes nothing.

    The latest message wins even when events arrive out of order. A click-to-WhatsApp referral
    starts a free entry point offer, taken up by a business reply (a later referral, a new
    offer). The types of NOT_OPENING_WINDOW change nothing: Meta does not document reactions as
    opening a window (decided conservatively), and system, revoke and edit are not customer
    content.
    """
    if message.message_type in NOT_OPENING_WINDOW:
        return None
    when = message.timestamp if at is None else at
    current = state or WindowState()
    referral_at = current.referral_at
    if message.referral and (referral_at is None or when > referral_at):
        referral_at = when
    seen = _seen(current.recent_message_ids, message.message_id)
    last = current.last_customer_message_at
    if last is not None and when <= last:
        if referral_at == current.referral_at and seen == current.recent_message_ids:
            return None
        return current.model_copy(update={"referral_at": referral_at, "recent_message_ids": seen})
    return current.model_copy(
        update={
            "last_customer_message_at": when,
            "last_message_id": message.message_id,
            "referral_at": referral_at,
            "recent_message_ids": seen,
        }
    )


def _seen(ids: tuple[str, ...], message_id: str) -> tuple[str, ...]:
    """The latest message ids with `message_id` among them (a redelivery changes nothing)."""
    if message_id in ids:
        return ids
    return (*ids, message_id)[-RECENT_MESSAGES:]


def sent_by_customer(state: WindowState | None, message_id: str) -> bool:
    """Whether `message_id` is one of the customer's latest messages policy saw here."""
    if state is None:
        return False
    return message_id == state.last_message_id or message_id in state.recent_message_ids


def called(state: WindowState | None, at: datetime) -> WindowState | None:
    """The window after a customer's call at `at` (answered or not) or their accepting the
    business's call: it opens or refreshes exactly as a message does (rules §3.1, Meta's
    service-messages page); None when a later customer action is already recorded. A call is
    not a message: its id never becomes one a read receipt may name."""
    current = state or WindowState()
    last = current.last_customer_message_at
    if last is not None and at <= last:
        return None
    return current.model_copy(update={"last_customer_message_at": at})


def business_replied(state: WindowState, now: datetime) -> WindowState | None:
    """A reply approved at `now`: within 24 h of a referral it opens 72 h of free messages
    (rules §3.3). An open free entry point runs to its end; a referral after the last one
    started offers a new one."""
    if state.referral_at is None or state.in_free_entry_point(now):
        return None
    if now >= state.referral_at + FEP_REPLY_WITHIN:
        return None
    started = state.free_entry_until - FEP_LENGTH if state.free_entry_until else None
    if started is not None and started >= state.referral_at:
        return None  # this referral's offer was taken up already
    return state.model_copy(update={"free_entry_until": now + FEP_LENGTH})


def opened(before: WindowState | None, after: WindowState, now: datetime) -> bool:
    """A customer message opened a window that was closed (or never open) at `now`."""
    return after.is_open(now) and (before is None or not before.is_open(now))


def due_changes(
    state: WindowState, now: datetime, lead: timedelta, closed_within: timedelta
) -> list[str]:
    """Timer-driven changes due at `now`: `expiring` inside the lead time before the end,
    `closed` once it ended (announced only for windows that closed within `closed_within`)."""
    expires = state.expires_at
    if expires is None:
        return []
    if expires - lead <= now < expires:
        return ["expiring"]
    if expires <= now < expires + closed_within:
        return ["closed"]
    return []


def due_until(expires_at: datetime, change: str, closed_within: timedelta) -> datetime:
    """When a change of a window ending at `expires_at` stops being due: `opened` and
    `expiring` at its end, `closed` `closed_within` after it (`due_changes`' bounds)."""
    return expires_at + (closed_within if change == "closed" else timedelta())
