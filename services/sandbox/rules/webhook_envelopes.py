"""Meta's `messages` webhook envelopes (§4.3-§4.6), built as plain dicts exactly as the Cloud API
sends them, and the Graph API's synchronous error body (§1.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.events.common import MetaError

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def envelope(
    waba_id: str, field: str, value: dict[str, Any], at: datetime | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": waba_id}
    if at is not None:
        entry["time"] = int(at.timestamp())
    entry["changes"] = [{"field": field, "value": value}]
    return {"object": "whatsapp_business_account", "entry": [entry]}


def metadata(phone_number_id: str, display: str) -> dict[str, str]:
    return {"display_phone_number": display, "phone_number_id": phone_number_id}


def number_value(phone_number_id: str, display: str, **items: Any) -> dict[str, Any]:
    """The `value` of a change about one business number: the product, its metadata, `items`."""
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(phone_number_id, display),
        **items,
    }


def seconds(at: datetime) -> str:
    return str(int(at.timestamp()))


def inbound(
    *,
    waba_id: str,
    phone_number_id: str,
    display: str,
    wa_id: str,
    name: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    """A customer's message (`message` is one item of `value.messages[]`, §4.4)."""
    value = number_value(phone_number_id, display)
    if message.get("type") != "system":
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
    value["messages"] = [message]
    return envelope(waba_id, "messages", value)


def error_item(error: MetaError) -> dict[str, Any]:
    return {
        "code": error.code,
        "title": error.title,
        "message": error.message or error.title,
        "error_data": {"details": error.details},
        "href": ERROR_HREF,
    }


def status(
    *,
    waba_id: str,
    phone_number_id: str,
    display: str,
    wamid: str,
    state: str,
    at: datetime,
    recipient: str,
    callback: str | None,
    pricing: dict[str, Any] | None = None,
    conversation: dict[str, Any] | None = None,
    error: MetaError | None = None,
) -> dict[str, Any]:
    """One `statuses[]` item (§4.5); `pricing`/`conversation` as decided for this state."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": seconds(at),
        "recipient_id": recipient,
    }
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if conversation is not None:
        item["conversation"] = conversation
    if pricing is not None:
        item["pricing"] = pricing
    if error is not None:
        item["errors"] = [error_item(error)]
    return envelope(waba_id, "messages", number_value(phone_number_id, display, statuses=[item]))


def system_error(
    *, waba_id: str, phone_number_id: str, display: str, error: MetaError
) -> dict[str, Any]:
    """An error about the number itself, under `value.errors[]` (§4.6)."""
    value = number_value(phone_number_id, display, errors=[error_item(error)])
    return envelope(waba_id, "messages", value)


def user_preference(
    *,
    waba_id: str,
    phone_number_id: str,
    display: str,
    wa_id: str,
    value: str,
    at: datetime,
) -> dict[str, Any]:
    """A customer stops or resumes marketing messages (§4.7)."""
    detail = {
        "stop": "User requested to stop marketing messages",
        "resume": "User requested to resume marketing messages",
    }[value]
    return envelope(
        waba_id,
        "user_preferences",
        number_value(
            phone_number_id,
            display,
            contacts=[{"wa_id": wa_id}],
            user_preferences=[
                {
                    "wa_id": wa_id,
                    "detail": detail,
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": int(at.timestamp()),
                }
            ],
        ),
    )


def error_body(error: MetaError, trace_id: str) -> dict[str, Any]:
    """The synchronous error response of the Graph API (§1.6)."""
    return {
        "error": {
            "message": f"(#{error.code}) {error.title}",
            "type": "OAuthException",
            "code": error.code,
            "error_data": {"messaging_product": "whatsapp", "details": error.details},
            "fbtrace_id": trace_id,
        }
    }
