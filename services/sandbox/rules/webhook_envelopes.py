"""Meta's `messages` webhook envelopes (§4.3-§4.7, with 2026's identity fields of §9.1), built as
plain dicts exactly as the Cloud API sends them, and the Graph API's synchronous error body
(§1.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sandbox.rules import identity
from services.sandbox.rules.identity import DEFAULT_NAME, Identity
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
    wa_id: str | Identity,
    name: str,
    message: dict[str, Any],
    field: str = "messages",
) -> dict[str, Any]:
    """A customer's message (`message` is one item of `value.messages[]`, §4.4), on `field`
    (`standby` while Meta's agent holds the thread). A plain phone gives the pre-2026
    `contacts[]`; an `Identity` the 2026 one (§9.1)."""
    who = wa_id if isinstance(wa_id, Identity) else Identity(wa_id=wa_id)
    value = number_value(phone_number_id, display)
    if message.get("type") != "system":
        value["contacts"] = [identity.contact(who, name)]
    value["messages"] = [message]
    return envelope(waba_id, field, value)


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
    recipient: str | Identity,
    callback: str | None,
    pricing: dict[str, Any] | None = None,
    conversation: dict[str, Any] | None = None,
    error: MetaError | None = None,
    name: str = DEFAULT_NAME,
) -> dict[str, Any]:
    """One `statuses[]` item (§4.5); `pricing`/`conversation` as decided for this state. A plain
    phone gives the pre-2026 item; an `Identity` adds the BSUID fields and, except on `failed`,
    the `contacts[]` beside the statuses (§9.1)."""
    who = recipient if isinstance(recipient, Identity) else Identity(wa_id=recipient)
    item: dict[str, Any] = {"id": wamid, "status": state, "timestamp": seconds(at)}
    item.update(identity.recipient_fields(who))
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if conversation is not None:
        item["conversation"] = conversation
    if pricing is not None:
        item["pricing"] = pricing
    if error is not None:
        item["errors"] = [error_item(error)]
    value = number_value(phone_number_id, display)
    beside = identity.status_contact(who, name, state)
    if beside is not None:
        value["contacts"] = [beside]
    value["statuses"] = [item]
    return envelope(waba_id, "messages", value)


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
    wa_id: str | Identity,
    value: str,
    at: datetime,
) -> dict[str, Any]:
    """A customer stops or resumes marketing messages (§4.7; with an `Identity`, §9.1)."""
    who = wa_id if isinstance(wa_id, Identity) else Identity(wa_id=wa_id)
    ids = identity.preference_fields(who)
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
            contacts=[ids],
            user_preferences=[
                {
                    **ids,
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
