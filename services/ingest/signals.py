"""Pure builders for the conversation signals beside messages (rules §9.6): `calls` items and
business calls' statuses, message echoes (`smb_message_echoes`, and the agent's in `standby`),
and `messaging_handovers`. Each returns one (topic, event, key) or raises, and the caller keeps
the item whole as an unparsed fragment."""

from __future__ import annotations

from typing import Any

from services.ingest import coerce, identities
from services.ingest.changes import Change, Emit
from services.ingest.coerce import Malformed
from services.ingest.identities import Fields
from services.ingest.messages import Origin, origin_of
from shared.events.envelope import deterministic_id
from shared.events.keys import conversation_key
from shared.events.signals import (
    ActivitySource,
    CallDirection,
    CallEvent,
    CallReported,
    HandoverType,
    OutboundActivityObserved,
    ThreadControlChanged,
)
from shared.topics import CALLS, OUTBOUND_ACTIVITY, THREAD_CONTROL

CALL_EVENTS: frozenset[CallEvent] = frozenset({"connect", "terminate"})
CALL_STATUSES: dict[str, CallEvent] = {
    "ringing": "ringing",
    "accepted": "accepted",
    "rejected": "rejected",
}
DIRECTIONS: frozenset[CallDirection] = frozenset({"USER_INITIATED", "BUSINESS_INITIATED"})
HANDOVERS: frozenset[HandoverType] = frozenset({"control_passed", "control_taken"})
# Who a call names: the caller for a customer's call, the callee for the business's.
CALLER = identities.SENDER
CALLEE = Fields("to", "to_user_id", ("to_parent_user_id",))
ECHO_TO = Fields("to", "to_user_id", ())


def call(raw: object, origin: Origin) -> Emit:
    """One `calls[]` item: a call connecting or ending."""
    item = coerce.clean_item(raw)
    event = coerce.identifier(item.get("event"), "event").lower()
    if event not in CALL_EVENTS:
        raise Malformed(f"`event` is {event[:30]!r}, not connect or terminate")
    direction = _direction(item.get("direction"))
    who = CALLER if direction == "USER_INITIATED" else CALLEE
    status = coerce.optional_text(item.get("status"), "status")
    return _call(
        item, origin, who, direction, event,  # checked against CALL_EVENTS above
        status=status.upper() if status else None, duration_s=_seconds(item.get("duration")),
    )  # fmt: skip


def call_status(raw: object, origin: Origin) -> Emit:
    """A business call's progress (`statuses[]` with `type: "call"` in a `calls` change)."""
    item = coerce.clean_item(raw)
    kind = coerce.identifier(item.get("type"), "type")
    if kind != "call":
        raise Malformed(f"a `calls` status of `type` {kind[:30]!r}, not call")
    value = coerce.identifier(item.get("status"), "status").lower()
    event = CALL_STATUSES.get(value)
    if event is None:
        raise Malformed(f"`status` is {value[:30]!r}, not RINGING, ACCEPTED or REJECTED")
    return _call(item, origin, identities.RECIPIENT, "BUSINESS_INITIATED", event)


def _call(
    item: dict[str, Any],
    origin: Origin,
    fields: Fields,
    direction: CallDirection,
    event: str,
    **extra: object,
) -> Emit:
    """The call event of an item, its customer read from `fields`."""
    call_id = coerce.identifier(item.get("id"), "id")
    who = identities.identity_of(item, fields)
    at = coerce.timestamp(item.get("timestamp"))
    reported = CallReported(
        event_id=deterministic_id("call", call_id, event),
        **origin.envelope(),
        call_id=call_id,
        wa_id=who.wa_id,
        user_id=who.user_id,
        parent_user_id=who.parent_user_id,
        direction=direction,
        event=event,
        timestamp=at,
        **origin.received(at),
        biz_opaque_callback_data=coerce.string(
            item.get("biz_opaque_callback_data"), "biz_opaque_callback_data"
        ),
        **extra,
    )
    return CALLS, reported, conversation_key(origin.phone_number_id, who.primary)


def echo(raw: object, origin: Origin, source: ActivitySource) -> Emit:
    """One `message_echoes[]` item: a message the number sent without wagate."""
    item = coerce.clean_item(raw)
    wamid = coerce.identifier(item.get("id"), "id")
    who = identities.identity_of(item, ECHO_TO)
    kind = coerce.identifier(item.get("type"), "type")
    at = coerce.timestamp(item.get("timestamp"))
    observed = OutboundActivityObserved(
        event_id=deterministic_id("echo", wamid),
        **origin.envelope(),
        source=source,
        message_id=wamid,
        to=who.wa_id,
        to_user_id=who.user_id,
        message_type=kind,
        timestamp=at,
        **origin.received(at),
    )
    return OUTBOUND_ACTIVITY, observed, conversation_key(origin.phone_number_id, who.primary)


def handover(change: Change) -> Emit:
    """A `messaging_handovers` change: its `type` names the notification object beside it;
    the customer is named at the value or in that object (`wa_id`, `user_id`)."""
    value = change.value
    coerce.clean(value, "value")
    origin = origin_of(change)
    kind = coerce.identifier(value.get("type"), "type")
    if kind not in HANDOVERS:
        raise Malformed(f"`type` is {kind[:30]!r}, not control_passed or control_taken")
    notice = coerce.obj(value.get(kind), kind)
    who = identities.optional_identity(value, identities.CONTACT) or identities.identity_of(
        notice, identities.CONTACT, kind
    )
    raw_at = value.get("timestamp", notice.get("timestamp"))
    at = coerce.optional_timestamp(raw_at, "timestamp") or change.reported_at
    if at is None:
        raise Malformed("no `timestamp` and no `entry.time`: when control moved is unknown")
    metadata = coerce.string(notice.get("metadata"), f"{kind}.metadata")
    natural = coerce.fingerprint(kind, who.primary, at.isoformat(), notice)
    event = ThreadControlChanged(
        event_id=deterministic_id("handover", origin.phone_number_id, natural),
        **origin.envelope(),
        wa_id=who.wa_id,
        user_id=who.user_id,
        parent_user_id=who.parent_user_id,
        change=kind,  # checked against HANDOVERS above
        held_by="business" if kind == "control_passed" else "agent",
        metadata=metadata,
        timestamp=at,
        details=notice,
    )
    return THREAD_CONTROL, event, conversation_key(origin.phone_number_id, who.primary)


def _direction(raw: object) -> CallDirection:
    value = coerce.identifier(raw, "direction").upper()
    if value not in DIRECTIONS:
        raise Malformed(f"`direction` is {value[:30]!r}, not USER_INITIATED or BUSINESS_INITIATED")
    return value  # checked against DIRECTIONS above


def _seconds(raw: object) -> int | None:
    """A call's `duration`: whole seconds, as a number or a string of digits."""
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10**9:
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
        return int(raw)
    raise Malformed("`duration` is not a whole number of seconds")
