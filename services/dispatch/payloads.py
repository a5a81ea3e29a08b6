"""Pure: an outbound intent -> the Cloud API's send-message request body."""

from __future__ import annotations

from typing import Any

from shared.events.intents import OutboundIntentSubmitted


def build(intent: OutboundIntentSubmitted) -> dict[str, Any]:
    content = intent.content
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": intent.to,
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
