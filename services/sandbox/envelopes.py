"""Meta's webhook envelopes, built as plain dicts exactly as the Cloud API sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.events.common import MetaError


def _envelope(waba_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


def _metadata(phone_number_id: str, display: str) -> dict[str, str]:
    return {"display_phone_number": display, "phone_number_id": phone_number_id}


def inbound_text(
    *,
    waba_id: str,
    phone_number_id: str,
    display: str,
    wa_id: str,
    name: str,
    wamid: str,
    at: datetime,
    body: str,
) -> dict[str, Any]:
    return _envelope(
        waba_id,
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(phone_number_id, display),
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(int(at.timestamp())),
                    "type": "text",
                    "text": {"body": body},
                }
            ],
        },
    )


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
    error: MetaError | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": recipient,
    }
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if state in ("sent", "delivered"):
        item["pricing"] = {
            "billable": state == "sent",
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
    if error is not None:
        item["errors"] = [
            {
                "code": error.code,
                "title": error.title,
                "message": error.message,
                "error_data": {"details": error.details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return _envelope(
        waba_id,
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(phone_number_id, display),
            "statuses": [item],
        },
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
