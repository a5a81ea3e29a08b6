"""Pure builders for the `messages` field: inbound messages, statuses, value-level errors and
`user_preferences`. Each returns one (topic, event, key); a malformed item raises, and the
caller keeps it as an unparsed fragment without losing its neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ingest import coerce
from services.ingest.changes import PRODUCER, Change, Emit
from shared.events.account import WebhookErrorReported
from shared.events.common import MetaError
from shared.events.envelope import deterministic_id
from shared.events.keys import conversation_key, normalize_wa_id
from shared.events.preferences import UserPreferenceChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import INBOUND_MESSAGES, STATUSES, USER_PREFERENCES, WEBHOOK_ERRORS


@dataclass(frozen=True)
class Origin:
    """What every item of one change shares: its WABA, business number and webhook."""

    waba_id: str | None
    phone_number_id: str
    display_phone_number: str | None
    correlation_id: str
    reported_at: datetime | None = None

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


def origin_of(change: Change) -> Origin:
    meta = coerce.obj(change.value.get("metadata"), "metadata")
    return Origin(
        waba_id=change.waba_id,
        phone_number_id=coerce.optional_text(meta.get("phone_number_id"), "phone_number_id") or "",
        display_phone_number=coerce.optional_text(
            meta.get("display_phone_number"), "display_phone_number"
        ),
        correlation_id=change.correlation_id,
        reported_at=change.reported_at,
    )


def contact_names(value: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in coerce.dicts(value.get("contacts"), "contacts"):
        name = coerce.obj(contact.get("profile"), "profile").get("name")
        if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
            names[contact["wa_id"]] = name
    return names


def _errors(raw: object) -> list[MetaError]:
    return [MetaError.from_payload(e) for e in coerce.dicts(raw, "errors")]


def _content(msg: dict[str, Any], kind: str) -> dict[str, Any]:
    """The type's own object; a list (e.g. `contacts`) is wrapped under the type's name."""
    own = msg.get(kind)
    if own is None:
        return {}
    return own if isinstance(own, dict) else {kind: own}


def inbound(msg: dict[str, Any], origin: Origin, names: dict[str, str]) -> Emit:
    kind = coerce.text(msg.get("type"), "type")
    wa_id = normalize_wa_id(coerce.text(msg.get("from"), "from"))
    wamid = coerce.text(msg.get("id"), "id")
    context = coerce.obj(msg.get("context"), "context")
    body = coerce.obj(msg.get("text"), "text").get("body") if kind == "text" else None
    event = InboundMessageReceived(
        event_id=deterministic_id("inbound", wamid),
        **origin.envelope(display_phone_number=origin.display_phone_number),
        wa_id=wa_id,
        contact_name=names.get(wa_id),
        message_id=wamid,
        timestamp=coerce.timestamp(msg.get("timestamp")),
        message_type=kind,
        text=body,
        context_message_id=coerce.optional_text(context.get("id"), "context.id"),
        context=context or None,
        referral=coerce.obj(msg.get("referral"), "referral") or None,
        content=_content(msg, kind),
        errors=_errors(msg.get("errors")),
    )
    return INBOUND_MESSAGES, event, conversation_key(origin.phone_number_id, wa_id)


def status(st: dict[str, Any], origin: Origin) -> Emit:
    wamid = coerce.text(st.get("id"), "id")
    value = coerce.text(st.get("status"), "status")
    recipient = coerce.text(st.get("recipient_id"), "recipient_id")
    event = MessageStatusReported(
        event_id=deterministic_id("status", wamid, value),
        **origin.envelope(),
        message_id=wamid,
        status=value,
        timestamp=coerce.timestamp(st.get("timestamp")),
        recipient_id=recipient,
        biz_opaque_callback_data=st.get("biz_opaque_callback_data"),
        conversation=st.get("conversation"),
        pricing=st.get("pricing"),
        errors=_errors(st.get("errors")),
    )
    return STATUSES, event, conversation_key(origin.phone_number_id, recipient)


def value_error(raw: dict[str, Any], origin: Origin, position: int) -> Emit:
    """An error for the whole business number; Meta gives it no id, so its content is its key."""
    error = MetaError.from_payload(raw)
    natural = coerce.fingerprint(origin.phone_number_id, origin.reported_at, position, raw)
    event = WebhookErrorReported(
        event_id=deterministic_id("webhook-error", origin.correlation_id, natural),
        **origin.envelope(phone_number_id=origin.phone_number_id or None),
        error=error,
        reported_at=origin.reported_at,
    )
    return WEBHOOK_ERRORS, event, origin.phone_number_id or origin.waba_id or ""


def preference(raw: dict[str, Any], origin: Origin) -> Emit:
    wa_id = normalize_wa_id(coerce.text(raw.get("wa_id"), "wa_id"))
    category = coerce.text(raw.get("category"), "category")
    value = coerce.text(raw.get("value"), "value")
    at = coerce.timestamp(raw.get("timestamp"))
    event = UserPreferenceChanged(
        event_id=deterministic_id(
            "preference", origin.phone_number_id, wa_id, category, value, str(int(at.timestamp()))
        ),
        **origin.envelope(),
        wa_id=wa_id,
        category=category,
        value=value,
        detail=coerce.optional_text(raw.get("detail"), "detail"),
        timestamp=at,
    )
    return USER_PREFERENCES, event, conversation_key(origin.phone_number_id, wa_id)
