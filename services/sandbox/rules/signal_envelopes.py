"""Meta's webhook envelopes for the conversation signals beside messages (rules §9.6): `calls`
items and a business call's statuses, `smb_message_echoes` (and the agent's echoes on
`standby`), and `messaging_handovers`, built as plain dicts in the shapes the reference gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sandbox.rules import identity
from services.sandbox.rules.identity import Identity
from services.sandbox.rules.webhook_envelopes import envelope, number_value, seconds

SDP_OFFER = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def _customer(who: Identity, phone: str, bsuid: str) -> dict[str, str]:
    """The customer's identifiers under the field names of one side of an item."""
    fields = {phone: who.wa_id, bsuid: who.user_id}
    return {k: v for k, v in fields.items() if v is not None}


def call_item(
    call_id: str,
    who: Identity,
    business: str,
    event: str,
    direction: str,
    at: datetime,
    *,
    status: str | None = None,
    started: datetime | None = None,
) -> dict[str, Any]:
    """One `calls[]` item: `connect` with its SDP session, or `terminate` with its outcome."""
    if direction == "USER_INITIATED":
        sides = {**_customer(who, "from", "from_user_id"), "to": business}
    else:
        sides = {"from": business, **_customer(who, "to", "to_user_id")}
    item: dict[str, Any] = {"id": call_id, **sides, "event": event, "timestamp": seconds(at)}
    item["direction"] = direction
    if event == "connect":
        item["session"] = {"sdp_type": "offer", "sdp": SDP_OFFER}
    else:
        item["status"] = status or "COMPLETED"
        begun = started or at
        item.update(
            start_time=seconds(begun),
            end_time=seconds(at),
            duration=int((at - begun).total_seconds()),
        )
    return item


def call_status(call_id: str, who: Identity, state: str, at: datetime) -> dict[str, Any]:
    """A business call's progress: `RINGING`, `ACCEPTED` or `REJECTED`."""
    return {
        "id": call_id,
        "type": "call",
        "status": state,
        "timestamp": seconds(at),
        **identity.recipient_fields(who),
    }


def calls(
    waba_id: str,
    phone_number_id: str,
    display: str,
    who: Identity,
    name: str,
    **items: list[dict[str, Any]],
) -> dict[str, Any]:
    """A `calls` change: its `calls[]` or `statuses[]`, and the customer's contact."""
    value = number_value(phone_number_id, display, contacts=[identity.contact(who, name)])
    value.update(items)
    return envelope(waba_id, "calls", value)


def echo(
    waba_id: str,
    phone_number_id: str,
    display: str,
    who: Identity,
    wamid: str,
    text: str,
    at: datetime,
    *,
    by_agent: bool = False,
) -> dict[str, Any]:
    """A message the number sent without the Cloud API app: typed in the WhatsApp Business app
    (`smb_message_echoes`), or Meta's agent's reply (on `standby`)."""
    item = {
        "from": display,
        **_customer(who, "to", "to_user_id"),
        "id": wamid,
        "timestamp": seconds(at),
        "type": "text",
        "text": {"body": text},
    }
    value = number_value(phone_number_id, display, message_echoes=[item])
    return envelope(waba_id, "standby" if by_agent else "smb_message_echoes", value)


def handover(
    waba_id: str,
    phone_number_id: str,
    display: str,
    who: Identity,
    kind: str,
    at: datetime,
    metadata: str | None = None,
) -> dict[str, Any]:
    """A `messaging_handovers` change: `type` names the notification object beside it
    (`control_passed` to the new owner, `control_taken` to the previous one)."""
    notice: dict[str, Any] = {} if metadata is None else {"metadata": metadata}
    value = number_value(phone_number_id, display, type=kind, **{kind: notice})
    value.update(_customer(who, "wa_id", "user_id"), timestamp=seconds(at))
    return envelope(waba_id, "messaging_handovers", value, at)
