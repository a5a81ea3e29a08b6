"""Customer messages of every type (§4.4), built from a control request as the `messages[]` item
Meta would post. Pure: ids, times and the business's display number come from the caller."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.sandbox.errors import InvalidCustomerMessage
from services.sandbox.rules.identity import Identity, sender_fields
from services.sandbox.rules.webhook_envelopes import seconds
from shared.events.message_types import INBOUND, MEDIA, NOT_OPENING_WINDOW

CUSTOMER_TYPES = INBOUND - {"revoke", "edit"}
"""What a played customer may send: revoking or editing a message is not content of its own."""
MEDIA_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}
OTHER_MIME = "application/octet-stream"  # a media type this table does not know yet
NEEDS_CONTEXT = frozenset({"interactive", "button"})


def opens_window(kind: str) -> bool:
    """User messages open or refresh the window; reactions and system notices do not (§3.2)."""
    return kind not in NOT_OPENING_WINDOW


def message_item(
    request: Mapping[str, Any], wamid: str, at: datetime, display: str, sender: str | Identity
) -> dict[str, Any]:
    """The `messages[]` item for `request` (`type` plus the object of that name). A plain phone
    `sender` gives the pre-2026 `from`; an `Identity` the 2026 fields (§9.1)."""
    kind = str(request.get("type") or "text")
    if kind not in CUSTOMER_TYPES:
        raise InvalidCustomerMessage(f"unknown message type {kind!r}")
    who = sender if isinstance(sender, Identity) else Identity(wa_id=sender)
    item: dict[str, Any] = sender_fields(who)
    item.update({"id": wamid, "timestamp": seconds(at), "type": kind})
    context = request.get("context")
    if isinstance(context, Mapping) and context.get("id"):
        item["context"] = {"from": display, "id": str(context["id"])}
    elif isinstance(context, str) and context:
        item["context"] = {"from": display, "id": context}
    elif kind in NEEDS_CONTEXT:
        raise InvalidCustomerMessage(f"a {kind} message answers a business message: give context")
    item.update(_content(kind, request, wamid))
    referral = request.get("referral")
    if referral is not None:
        if not isinstance(referral, Mapping):
            raise InvalidCustomerMessage("referral must be an object")
        item["referral"] = {"source_type": "ad", **referral}
    return item


def _content(kind: str, request: Mapping[str, Any], wamid: str) -> dict[str, Any]:
    raw = request.get(kind)
    if kind == "text" and isinstance(raw, str):
        raw = {"body": raw}
    if kind == "contacts":
        if not isinstance(raw, list) or not raw:
            raise InvalidCustomerMessage("contacts must be a non-empty array")
        return {"contacts": raw}
    if kind == "unsupported":
        return {
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            "unsupported": {
                "type": str(raw.get("type", "poll")) if isinstance(raw, Mapping) else "poll"
            },
        }
    if not isinstance(raw, Mapping):
        raise InvalidCustomerMessage(f"a {kind} message needs a '{kind}' object")
    return {kind: _typed(kind, dict(raw), wamid)}


def _typed(kind: str, content: dict[str, Any], wamid: str) -> dict[str, Any]:
    if kind == "text" and not content.get("body"):
        raise InvalidCustomerMessage("text.body is required")
    if kind in MEDIA:
        media_id = str(
            content.get("id") or int(hashlib.sha256(wamid.encode()).hexdigest()[:15], 16)
        )
        content = {
            "mime_type": MEDIA_MIME.get(kind, OTHER_MIME),
            "sha256": hashlib.sha256(media_id.encode()).hexdigest(),
            **content,
            "id": media_id,
        }
    if kind == "interactive":
        sub = content.get("type")
        if sub not in ("button_reply", "list_reply", "nfm_reply") or sub not in content:
            raise InvalidCustomerMessage("interactive needs type button_reply/list_reply/nfm_reply")
    if kind == "button" and not content.get("text"):
        raise InvalidCustomerMessage("button.text is required")
    if kind == "button":
        content.setdefault("payload", content["text"])
    if kind == "reaction" and not content.get("message_id"):
        raise InvalidCustomerMessage("reaction.message_id is required")
    return content


def timestamp(raw: object, now: datetime) -> datetime:
    """When the customer wrote: `now`, or a past moment in Unix seconds or ISO 8601."""
    if raw is None or raw == "":
        return now
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            at = datetime.fromtimestamp(raw, tz=UTC)
        elif isinstance(raw, str) and raw.isdigit():
            at = datetime.fromtimestamp(int(raw), tz=UTC)
        elif isinstance(raw, str):
            at = datetime.fromisoformat(raw)
        else:
            raise TypeError(type(raw).__name__)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidCustomerMessage(f"timestamp {raw!r} is not Unix seconds or ISO 8601") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at > now:
        raise InvalidCustomerMessage("timestamp cannot be in the future")
    return at


def identity_change(
    before: Identity, after: Identity, name: str, wamid: str, at: datetime
) -> dict[str, Any]:
    """The `system` message of a customer's number change (SYS26): `user_changed_number` with
    the new phone when it may be shared, else `user_changed_user_id`, which names no phone.
    The item is sent with the identifiers of `before`; `system` carries the new BSUIDs."""
    changed_number = after.wa_id is not None
    if changed_number:
        sender = before
        old, new = before.wa_id or before.user_id, after.wa_id
    else:
        sender = Identity(user_id=before.user_id, parent_user_id=before.parent_user_id)
        old, new = before.user_id, after.user_id
    system: dict[str, Any] = {"body": f"User {name} changed from {old} to {new}"}
    if changed_number:
        system["wa_id"] = after.wa_id
    system["type"] = "user_changed_number" if changed_number else "user_changed_user_id"
    for field, value in (
        ("user_id", after.user_id),
        ("parent_user_id", after.parent_user_id),
        ("previous_user_id", before.user_id),
        ("previous_parent_user_id", before.parent_user_id),
    ):
        if value is not None:
            system[field] = value
    item: dict[str, Any] = sender_fields(sender)
    item.update({"id": wamid, "timestamp": seconds(at), "type": "system", "system": system})
    return item
