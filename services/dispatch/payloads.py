"""Pure: an outbound intent -> the Cloud API's send-message request body."""

from __future__ import annotations

from typing import Any

from shared.events.decisions import Address
from shared.events.intents import OutboundIntentSubmitted


def addressed(intent: OutboundIntentSubmitted, address: Address | None = None) -> Address:
    """Whom the request names: policy's `address`, else the intent's own `to` or `recipient`.
    One of the two fields only: were both sent, Meta would take `to` (rules §9.1)."""
    if address is not None:
        return address
    if intent.to is not None:
        return Address(field="to", value=intent.to)
    return Address(field="recipient", value=intent.customer)


def build(intent: OutboundIntentSubmitted, address: Address | None = None) -> dict[str, Any]:
    content = intent.content
    whom = addressed(intent, address)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        whom.field: whom.value,
        "type": content.type,
        "biz_opaque_callback_data": intent.intent_id,
    }
    if intent.reply_to and content.type != "reaction":
        body["context"] = {"message_id": intent.reply_to}
    match content.type:
        case "interactive":
            body["interactive"] = content.interactive
        case "contacts":
            body["contacts"] = content.contacts
        case "template":
            body["template"] = {
                "name": content.name,
                "language": {"code": content.language},
                "components": content.components,
            }
        case _:
            body[content.type] = content.model_dump(exclude={"type"}, exclude_none=True)
    return body
