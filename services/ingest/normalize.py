"""Pure translation of a verified Meta webhook payload into wagate events.

Every entry, change and item is read on its own: a malformed or unknown part becomes an
`Unparsed` fragment (published as `WebhookFragmentUnparsed`) and never hides its neighbours.
Event ids derive from Meta's natural keys (wamid, wamid+status, template id+event+time, ...),
so a redelivered webhook yields the same ids and its copies can be dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from services.ingest import coerce
from services.ingest.account_updates import ACCOUNT_FIELDS, account_update
from services.ingest.changes import PRODUCER, Change, Emit
from services.ingest.messages import (
    contact_names,
    inbound,
    origin_of,
    preference,
    status,
    value_error,
)
from services.ingest.template_updates import TEMPLATE_FIELDS, template_update
from shared.events.envelope import deterministic_id
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.topics import WEBHOOKS_UNPARSED

__all__ = ["Normalized", "Unparsed", "bounded", "normalize"]
WHOLE_PAYLOAD = "<payload>"
MESSAGE_FIELDS = frozenset({"messages", "user_preferences"})
OBJECT = "whatsapp_business_account"
# The fields whose change is one event, and the builder of that event.
BUILDERS: dict[str, Callable[[Change], Emit]] = {
    **dict.fromkeys(TEMPLATE_FIELDS, template_update),
    **dict.fromkeys(ACCOUNT_FIELDS, account_update),
}


@dataclass(frozen=True)
class Unparsed:
    field: str
    reason: str
    fragment: Any
    waba_id: str | None = None


@dataclass
class Normalized:
    events: list[Emit] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)

    def keep(
        self, where: str, item: object, waba_id: str | None, build: Callable[[], Emit]
    ) -> None:
        """Add `build()`'s event, or keep `item` unparsed when it cannot be read."""
        try:
            self.events.append(build())
        except coerce.FRAGMENT_ERRORS as exc:
            self.unparsed.append(Unparsed(where, coerce.reason(exc), item, waba_id))

    def to_publish(self, correlation_id: str) -> list[Emit]:
        """The typed events, then one `WebhookFragmentUnparsed` per fragment not understood."""
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
        reason=f"{len(emits)} events, more than {limit}: kept only in the journal",
        fragment=None,
        webhook_event_id=correlation_id,
    )
    return [(WEBHOOKS_UNPARSED, flood, "")]


def normalize(payload: object, correlation_id: str) -> Normalized:
    out = Normalized()
    try:
        changes = list(_changes(payload))
    except coerce.FRAGMENT_ERRORS as exc:
        out.unparsed.append(Unparsed(WHOLE_PAYLOAD, coerce.reason(exc), payload))
        return out
    for waba_id, reported_at, change in changes:
        _change(out, waba_id, reported_at, change, correlation_id)
    return out


def _changes(payload: object) -> Iterator[tuple[str | None, datetime | None, Any]]:
    body = coerce.obj(payload, "payload")
    kind = body.get("object")
    if kind is not None and kind != OBJECT:
        raise ValueError(f"`object` is {str(kind)[:50]!r}, not {OBJECT}")
    for entry in coerce.dicts(body.get("entry"), "entry"):
        waba_id = coerce.optional_text(entry.get("id"), "entry.id")
        reported_at = coerce.optional_timestamp(entry.get("time"), "entry.time")
        for change in coerce.dicts(entry.get("changes"), "changes"):
            yield waba_id, reported_at, change


def _change(
    out: Normalized,
    waba_id: str | None,
    reported_at: datetime | None,
    raw: dict[str, Any],
    correlation_id: str,
) -> None:
    kind = raw.get("field")
    value = raw.get("value")
    name = kind if isinstance(kind, str) else WHOLE_PAYLOAD
    if not isinstance(kind, str) or not isinstance(value, dict):
        out.unparsed.append(Unparsed(name, "change without a field name or value", raw, waba_id))
        return
    change = Change(kind, value, waba_id, reported_at, correlation_id)
    if kind in MESSAGE_FIELDS:
        _messages(out, change)
    elif (build := BUILDERS.get(kind)) is not None:
        out.keep(kind, raw, waba_id, partial(build, change))
    else:
        out.unparsed.append(Unparsed(kind, "field not understood", raw, waba_id))


def _messages(out: Normalized, change: Change) -> None:
    kind, value, waba_id = change.field, change.value, change.waba_id
    try:
        origin = origin_of(change)
        names = contact_names(value)
        arrays = {
            name: coerce.dicts(value.get(name), name)
            for name in ("messages", "statuses", "errors", "user_preferences")
        }
    except coerce.FRAGMENT_ERRORS as exc:
        out.unparsed.append(Unparsed(kind, coerce.reason(exc), value, waba_id))
        return
    for msg in arrays["messages"]:
        out.keep(kind, msg, waba_id, partial(inbound, msg, origin, names))
    for st in arrays["statuses"]:
        out.keep(kind, st, waba_id, partial(status, st, origin))
    for i, err in enumerate(arrays["errors"]):
        out.keep(kind, err, waba_id, partial(value_error, err, origin, i))
    for pref in arrays["user_preferences"]:
        out.keep(kind, pref, waba_id, partial(preference, pref, origin))
