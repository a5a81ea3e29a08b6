"""Pure translation of a verified Meta webhook payload into wagate events.

Every element of `entry[]`, `changes[]` and of each array of a change value is judged on its
own: a part that cannot be typed becomes an `Unparsed` fragment, kept whole with a reason that
says where it was and why (published as `WebhookFragmentUnparsed`), and never hides its
neighbours. Event ids derive from Meta's natural keys (wamid, wamid+status, template
id+event+time, ...), so a redelivered webhook yields the same ids; within one body an id is
published once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from services.ingest import coerce
from services.ingest.account_updates import ACCOUNT_FIELDS, account_update
from services.ingest.changes import PRODUCER, Change, Emit
from services.ingest.coerce import Malformed, NotTypedYet
from services.ingest.contacts import Contact, contact_of
from services.ingest.messages import (
    Origin,
    inbound,
    origin_of,
    preference,
    status,
    value_error,
)
from services.ingest.signals import call, call_status, echo, handover
from services.ingest.template_updates import TEMPLATE_FIELDS, template_update
from shared.events.envelope import deterministic_id
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.topics import WEBHOOKS_UNPARSED

__all__ = ["DEFAULT_FUTURE_SKEW", "Normalized", "Unparsed", "bounded", "normalize"]
WHOLE_PAYLOAD = "<payload>"
ENTRY = "<entry>"
CHANGE = "<change>"
OBJECT = "whatsapp_business_account"
DEFAULT_FUTURE_SKEW = timedelta(minutes=5)
# The fields whose change is one event, and the builder of that event.
BUILDERS: dict[str, Callable[[Change], Emit]] = {
    **dict.fromkeys(TEMPLATE_FIELDS, template_update),
    **dict.fromkeys(ACCOUNT_FIELDS, account_update),
    "messaging_handovers": handover,
}
_MESSAGES = ("messages", "statuses", "errors", "user_preferences")
ITEM_ARRAYS: dict[str, tuple[str, ...]] = {
    "messages": _MESSAGES,
    "user_preferences": _MESSAGES,
    "standby": ("messages", "statuses", "errors", "message_echoes"),
    "smb_message_echoes": ("message_echoes", "errors"),
    "calls": ("calls", "statuses", "errors"),
}
"""The fields whose value holds arrays of items, each item one event, and those arrays."""
CONTEXT_KEYS = frozenset({"messaging_product", "metadata", "contacts"})
"""The other parts of such a value: what its items share."""


@dataclass(frozen=True)
class Unparsed:
    field: str
    reason: str
    fragment: Any
    waba_id: str | None = None


@dataclass(frozen=True)
class Place:
    """Where a part sits in the body: its change's field, its path and its entry's WABA."""

    field: str
    path: str
    waba_id: str | None = None

    def inside(self, name: str) -> Place:
        return Place(self.field, coerce.at(self.path, name), self.waba_id)


@dataclass
class Normalized:
    events: list[Emit] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)
    repeated: list[Emit] = field(default_factory=list)
    _seen: dict[str, tuple[str, str, object]] = field(default_factory=dict, repr=False)

    def reject(self, place: Place, exc: BaseException, fragment: object) -> None:
        """Keep `fragment` whole as unparsed, with why and where."""
        reason = coerce.reason(exc, place.path)
        self.unparsed.append(Unparsed(place.field, reason, fragment, place.waba_id))

    def keep(self, place: Place, item: object, build: Callable[[], Emit]) -> None:
        """Add `build()`'s event, or keep `item` unparsed when it cannot be typed. An event id
        already built from this body is published once: a repeat of the same item is dropped,
        another item with the same id is unparsed."""
        try:
            emit = build()
        except coerce.FRAGMENT_ERRORS as exc:
            self.reject(place, exc, item)
            return
        spec, event, key = emit
        earlier = self._seen.get(event.event_id)
        if earlier is None:
            self._seen[event.event_id] = (spec.name, key, item)
            self.events.append(emit)
        elif earlier == (spec.name, key, item):
            self.repeated.append(emit)
        else:
            clash = Malformed("has the event id of an earlier item of this body, not its content")
            self.reject(place, clash, item)

    def to_publish(self, correlation_id: str) -> list[Emit]:
        """The typed events, then one `WebhookFragmentUnparsed` per fragment not typed."""
        kept = [
            (
                WEBHOOKS_UNPARSED,
                WebhookFragmentUnparsed(
                    event_id=deterministic_id("unparsed", correlation_id, str(i)),
                    correlation_id=correlation_id,
                    producer=PRODUCER,
                    field=u.field[:200],
                    reason=u.reason,
                    waba_id=u.waba_id,
                    fragment=u.fragment,
                    webhook_event_id=correlation_id,
                ),
                u.waba_id or "",
            )
            for i, u in enumerate(self.unparsed)
        ]
        return [*self.events, *kept]


def bounded(emits: list[Emit], limit: int, correlation_id: str) -> list[Emit]:
    """`emits`, or, past `limit` (Meta batches at most 1000 updates), one unparsed event that
    points at the journaled body instead of flooding the topics."""
    if len(emits) <= limit:
        return emits
    flood = WebhookFragmentUnparsed(
        event_id=deterministic_id("unparsed", correlation_id, "too-many"),
        correlation_id=correlation_id,
        producer=PRODUCER,
        field=WHOLE_PAYLOAD,
        reason=f"too many: {len(emits)} events, more than {limit}: kept only in the journal",
        fragment=None,
        webhook_event_id=correlation_id,
    )
    return [(WEBHOOKS_UNPARSED, flood, "")]


@dataclass(frozen=True)
class Delivery:
    """The webhook a payload came in: its id, when it was received, the allowed clock skew."""

    correlation_id: str
    received_at: datetime | None
    future_skew: timedelta


def normalize(
    payload: object,
    correlation_id: str,
    received_at: datetime | None = None,
    future_skew: timedelta = DEFAULT_FUTURE_SKEW,
    *,
    checked: bool = False,
) -> Normalized:
    """Every event `payload` holds; `received_at` (when given) flags timestamps later than it
    plus `future_skew`. `checked`: the payload was read from a body found plain
    (`verify.Parsed.plain`), so its parts are not searched again for NUL and the like."""
    with coerce.checked_body() if checked else nullcontext():
        return _normalize(payload, correlation_id, received_at, future_skew)


def _normalize(
    payload: object, correlation_id: str, received_at: datetime | None, future_skew: timedelta
) -> Normalized:
    out = Normalized()
    delivery = Delivery(correlation_id, received_at, future_skew)
    try:
        entries = _entries(payload)
    except coerce.FRAGMENT_ERRORS as exc:
        out.reject(Place(WHOLE_PAYLOAD, ""), exc, payload)
        return out
    for i, entry in enumerate(entries):
        _entry(out, entry, f"entry[{i}]", delivery)
    return out


def _entries(payload: object) -> list[object]:
    body = coerce.an_object(payload, "payload")
    kind = body.get("object")
    if kind is not None and kind != OBJECT:
        raise Malformed(f"`object` is {str(kind)[:50]!r}, not {OBJECT}")
    return coerce.elements(body.get("entry"), "entry")


def _entry(out: Normalized, raw: object, path: str, delivery: Delivery) -> None:
    try:
        entry = coerce.an_object(raw, "")
        waba_id = coerce.optional(coerce.graph_id, entry.get("id"), "id")
        reported_at = coerce.optional_timestamp(entry.get("time"), "time")
        changes = coerce.elements(entry.get("changes"), "changes")
    except coerce.FRAGMENT_ERRORS as exc:
        out.reject(Place(ENTRY, path), exc, raw)
        return
    for j, change in enumerate(changes):
        place = Place(CHANGE, f"{path}.changes[{j}]", waba_id)
        _change(out, place, change, reported_at, delivery)


def _change(
    out: Normalized, place: Place, raw: object, reported_at: datetime | None, delivery: Delivery
) -> None:
    kind = raw.get("field") if isinstance(raw, dict) else None
    try:
        name = coerce.identifier(kind, "field")
        value = coerce.an_object(raw.get("value") if isinstance(raw, dict) else None, "value")
    except coerce.FRAGMENT_ERRORS as exc:
        out.reject(place, exc, raw)
        return
    place = Place(name, place.path, place.waba_id)
    change = Change(
        name,
        value,
        place.waba_id,
        reported_at,
        delivery.correlation_id,
        delivery.received_at,
        delivery.future_skew,
    )
    if name in ITEM_ARRAYS:
        _messages(out, change, place.inside("value"))
    elif (build := BUILDERS.get(name)) is not None:
        out.keep(place, raw, partial(build, change))
    else:
        out.reject(place, NotTypedYet(f"field `{name}` is not one ingest types"), raw)


def _messages(out: Normalized, change: Change, place: Place) -> None:
    value = change.value
    try:
        origin = origin_of(change)
    except coerce.FRAGMENT_ERRORS as exc:
        out.reject(place, exc, value)
        return
    builders = _item_builders(change.field, origin, _contacts(out, value.get("contacts"), place))
    arrays = ITEM_ARRAYS[change.field]
    for name in arrays:
        try:
            items = coerce.elements(value.get(name), name)
        except coerce.FRAGMENT_ERRORS as exc:
            out.reject(place, exc, value.get(name))
            continue
        for k, item in enumerate(items):
            out.keep(place.inside(f"{name}[{k}]"), item, partial(builders[name], item, k))
    for other in sorted(value.keys() - set(arrays) - CONTEXT_KEYS):
        if value[other] is not None:
            why = NotTypedYet(f"`{str(other)[:40]}` is not a part of this field ingest types")
            out.reject(place, why, value[other])


def _item_builders(
    field: str, origin: Origin, contacts: Sequence[Contact]
) -> dict[str, Callable[..., Emit]]:
    """The builder of each item array's elements, for one change value of `field`: customer
    messages on `standby` arrive while another handler holds the thread, the echoes there are
    that handler's sends; a `calls` value's statuses are a business call's progress."""
    standby = field == "standby"
    return {
        "messages": lambda item, _: inbound(item, origin, contacts, standby=standby),
        "statuses": (lambda item, _: call_status(item, origin))
        if field == "calls"
        else (lambda item, _: status(item, origin)),
        "errors": lambda item, position: value_error(item, origin, position),
        "user_preferences": lambda item, _: preference(item, origin),
        "message_echoes": lambda item, _: echo(
            item, origin, "agent" if standby else "business_app"
        ),
        "calls": lambda item, _: call(item, origin),
    }


def _contacts(out: Normalized, raw: object, place: Place) -> list[Contact]:
    """The `contacts[]` of a change: who its items are about. A malformed contact, or one
    naming a customer of an earlier contact with another profile name, is kept unparsed and
    describes no item."""
    kept: list[Contact] = []
    try:
        contacts = coerce.elements(raw, "contacts")
    except coerce.FRAGMENT_ERRORS as exc:
        out.reject(place, exc, raw)
        return kept
    for i, contact in enumerate(contacts):
        try:
            found = contact_of(contact)
            if found is None:
                continue
            if any(c.names(found.identity) and c.name != found.name for c in kept):
                raise Malformed("names a customer of an earlier contact with another profile name")
            kept.append(found)
        except coerce.FRAGMENT_ERRORS as exc:
            out.reject(place.inside(f"contacts[{i}]"), exc, contact)
    return kept
