"""Pure builders for the `messages` field: inbound messages, statuses, value-level errors and
`user_preferences`. Each returns one (topic, event, key) only when every field the event carries
is what Meta sent; otherwise it raises, and the caller keeps the item whole as an unparsed
fragment without losing its neighbours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.ingest import coerce, identities
from services.ingest.changes import PRODUCER, Change, Emit
from services.ingest.coerce import Malformed, NotTypedYet
from services.ingest.contacts import Contact, sender_contact
from services.ingest.contents import content_of
from shared.events.account import WebhookErrorReported
from shared.events.common import MetaError
from shared.events.envelope import deterministic_id
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import (
    IDENTITIES,
    INBOUND_MESSAGES,
    STATUSES,
    USER_PREFERENCES,
    WEBHOOK_ERRORS,
)

PRODUCT = "whatsapp"


@dataclass(frozen=True)
class Origin:
    """What every item of one change shares: its WABA, business number and webhook."""

    waba_id: str | None
    phone_number_id: str
    display_phone_number: str | None
    correlation_id: str
    reported_at: datetime | None = None
    received_at: datetime | None = None
    future_skew: timedelta = timedelta(0)

    def envelope(self, **changes: object) -> dict[str, object]:
        """The fields every event of this change carries: the webhook it came in, its producer,
        the WABA and the business number (`changes` replaces or adds some)."""
        return {
            "correlation_id": self.correlation_id,
            "producer": PRODUCER,
            "waba_id": self.waba_id,
            "phone_number_id": self.phone_number_id,
            **changes,
        }

    def received(self, at: datetime) -> dict[str, object]:
        """When the webhook came, and whether `at` is later than that plus the allowed skew."""
        late = self.received_at is not None and at > self.received_at + self.future_skew
        return {"received_at": self.received_at, "timestamp_in_future": late}


def origin_of(change: Change) -> Origin:
    """The business number of a change value: without `metadata.phone_number_id` no item of it
    can say which number it is about."""
    value = change.value
    product = value.get("messaging_product")
    if product is not None and product != PRODUCT:
        raise Malformed(f"`messaging_product` is {str(product)[:30]!r}, not {PRODUCT}")
    meta = coerce.obj(value.get("metadata"), "metadata")
    coerce.clean(meta, "metadata")
    if meta.get("phone_number_id") is None:
        raise Malformed("`metadata.phone_number_id` is missing: no business number")
    return Origin(
        waba_id=change.waba_id,
        phone_number_id=coerce.graph_id(meta.get("phone_number_id"), "metadata.phone_number_id"),
        display_phone_number=coerce.optional_text(
            meta.get("display_phone_number"), "metadata.display_phone_number"
        ),
        correlation_id=change.correlation_id,
        reported_at=change.reported_at,
        received_at=change.received_at,
        future_skew=change.future_skew,
    )


def meta_error(raw: object, where: str = "") -> MetaError:
    """One error object (§1.6) with an integer `code` and string texts, as Meta sends them."""
    err = coerce.an_object(raw, where)
    code = err.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise Malformed(f"`{coerce.at(where, 'code')}` is not an integer")
    for name in ("title", "message", "href"):
        coerce.string(err.get(name), coerce.at(where, name))
    data = coerce.obj(err.get("error_data"), coerce.at(where, "error_data"))
    coerce.string(data.get("details"), coerce.at(where, "error_data.details"))
    return MetaError.from_payload(err)


def _errors(raw: object) -> list[MetaError]:
    return [meta_error(e, f"errors[{i}]") for i, e in enumerate(coerce.elements(raw, "errors"))]


def _optional_object(raw: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    return coerce.obj(raw.get(name), name) or None


def inbound(msg: object, origin: Origin, contacts: Sequence[Contact]) -> Emit:
    item = coerce.clean_item(msg)
    if item.get("group_id") is not None:
        raise NotTypedYet("a group message (`group_id`): groups are not typed yet")
    sender = identities.identity_of(item, identities.SENDER)
    kind = coerce.identifier(item.get("type"), "type")
    if kind == "system":
        changed = identity_change(item, sender, origin)
        if changed is not None:
            return changed
    contact = sender_contact(sender, contacts)
    seen = contact.identity if contact is not None else sender
    wamid = coerce.identifier(item.get("id"), "id")
    at = coerce.timestamp(item.get("timestamp"))
    content = content_of(item, kind)
    context = coerce.obj(item.get("context"), "context")
    coerce.string(context.get("from"), "context.from")
    event = InboundMessageReceived(
        event_id=deterministic_id("inbound", wamid),
        **origin.envelope(display_phone_number=origin.display_phone_number),
        wa_id=sender.wa_id,
        user_id=sender.user_id,
        parent_user_id=sender.parent_user_id or seen.parent_user_id,
        username=seen.username,
        contact_wa_id=seen.wa_id if seen.wa_id != sender.wa_id else None,
        contact_name=contact.name if contact is not None else None,
        message_id=wamid,
        timestamp=at,
        **origin.received(at),
        message_type=kind,
        text=content.get("body") if kind == "text" else None,
        context_message_id=coerce.optional(coerce.identifier, context.get("id"), "context.id"),
        context=context or None,
        referral=_optional_object(item, "referral"),
        content=content,
        errors=_errors(item.get("errors")),
    )
    return INBOUND_MESSAGES, event, conversation_key(origin.phone_number_id, sender.primary)


SYSTEM_CHANGES = frozenset({"user_changed_number", "user_changed_user_id"})


def identity_change(
    item: Mapping[str, Any], sender: CustomerIdentity, origin: Origin
) -> Emit | None:
    """A `system` message saying the customer's identifiers changed (§4.4, §9.1), as one
    `CustomerIdentityChanged`; None for another system message (kept as an inbound message)."""
    system = coerce.an_object(item.get("system"), "system")
    kind = coerce.optional_text(system.get("type"), "system.type")
    if kind not in SYSTEM_CHANGES:
        return None
    now = identities.optional_identity(system, identities.SYSTEM_NOW, "system")
    if now is None:
        raise Malformed(f"a `{kind}` notice without `system.wa_id` or `system.user_id`")
    before = identities.optional_identity(system, identities.SYSTEM_BEFORE, "system")
    previous = sender
    if before is not None and kind == "user_changed_user_id":
        # the BSUID it changed from, beside the phone `from` may give
        previous = CustomerIdentity(
            wa_id=sender.wa_id,
            user_id=before.user_id or sender.user_id,
            parent_user_id=before.parent_user_id or sender.parent_user_id,
        )
    if kind == "user_changed_user_id" and now.wa_id is None and previous.wa_id is not None:
        now = now.model_copy(update={"wa_id": previous.wa_id})  # the phone did not change
    wamid = coerce.identifier(item.get("id"), "id")
    event = CustomerIdentityChanged(
        event_id=deterministic_id("identity", wamid),
        **origin.envelope(),
        change=kind,
        previous=previous,
        current=now,
        message_id=wamid,
        timestamp=coerce.timestamp(item.get("timestamp")),
        body=coerce.string(system.get("body"), "system.body"),
    )
    return IDENTITIES, event, conversation_key(origin.phone_number_id, previous.primary)


def status(st: object, origin: Origin) -> Emit:
    item = coerce.clean_item(st)
    if item.get("recipient_type") == "group":
        raise NotTypedYet("a status of a group message: groups are not typed yet")
    recipient = identities.identity_of(item, identities.RECIPIENT)
    wamid = coerce.identifier(item.get("id"), "id")
    value = coerce.identifier(item.get("status"), "status")
    at = coerce.timestamp(item.get("timestamp"))
    event = MessageStatusReported(
        event_id=deterministic_id("status", wamid, value),
        **origin.envelope(),
        message_id=wamid,
        status=value,
        timestamp=at,
        **origin.received(at),
        recipient_id=recipient.wa_id,
        recipient_user_id=recipient.user_id,
        parent_recipient_user_id=recipient.parent_user_id,
        biz_opaque_callback_data=coerce.string(
            item.get("biz_opaque_callback_data"), "biz_opaque_callback_data"
        ),
        conversation=_optional_object(item, "conversation"),
        pricing=_optional_object(item, "pricing"),
        errors=_errors(item.get("errors")),
    )
    return STATUSES, event, conversation_key(origin.phone_number_id, recipient.primary)


def value_error(raw: object, origin: Origin, position: int) -> Emit:
    """An error for the whole business number; Meta gives it no id, so its content is its key."""
    item = coerce.clean_item(raw)
    error = meta_error(item)
    natural = coerce.fingerprint(origin.phone_number_id, origin.reported_at, position, item)
    event = WebhookErrorReported(
        event_id=deterministic_id("webhook-error", origin.correlation_id, natural),
        **origin.envelope(),
        error=error,
        reported_at=origin.reported_at,
    )
    return WEBHOOK_ERRORS, event, origin.phone_number_id


def preference(raw: object, origin: Origin) -> Emit:
    item = coerce.clean_item(raw)
    who = identities.identity_of(item, identities.CONTACT)
    category = coerce.identifier(item.get("category"), "category")
    value = coerce.identifier(item.get("value"), "value")
    at = coerce.timestamp(item.get("timestamp"))
    event = UserPreferenceChanged(
        event_id=deterministic_id(
            "preference",
            origin.phone_number_id,
            who.primary,
            category,
            value,
            str(int(at.timestamp())),
        ),
        **origin.envelope(),
        wa_id=who.wa_id,
        user_id=who.user_id,
        parent_user_id=who.parent_user_id,
        category=category,
        value=value,
        detail=coerce.string(item.get("detail"), "detail"),
        timestamp=at,
    )
    return USER_PREFERENCES, event, conversation_key(origin.phone_number_id, who.primary)
