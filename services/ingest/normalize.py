"""Pure translation of a verified Meta webhook payload into wagate events.

Event ids derive from Meta's natural keys (wamid, wamid+status), so a redelivered webhook
yields the same ids and consumers can drop the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared.events.common import MetaError
from shared.events.envelope import Event, deterministic_id
from shared.events.keys import conversation_key
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import INBOUND_MESSAGES, STATUSES, TopicSpec

PRODUCER = "ingest"


@dataclass(frozen=True)
class Unparsed:
    field: str
    reason: str
    fragment: dict[str, Any]


@dataclass
class Normalized:
    events: list[tuple[TopicSpec, Event, str]] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)


def _ts(raw: object) -> datetime:
    return datetime.fromtimestamp(int(str(raw)), tz=UTC)


def _changes(payload: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            yield entry.get("id"), change


def normalize(payload: dict[str, Any], correlation_id: str) -> Normalized:
    out = Normalized()
    for waba_id, change in _changes(payload):
        kind = str(change.get("field"))
        value = change.get("value") or {}
        if kind != "messages":
            out.unparsed.append(Unparsed(kind, "field not handled yet", change))
            continue
        meta = value.get("metadata") or {}
        pnid = str(meta.get("phone_number_id", ""))
        names = {
            c.get("wa_id"): (c.get("profile") or {}).get("name")
            for c in value.get("contacts") or []
        }
        for msg in value.get("messages") or []:
            _add(
                out,
                kind,
                msg,
                partial(
                    _inbound,
                    waba_id=waba_id,
                    pnid=pnid,
                    meta=meta,
                    names=names,
                    correlation_id=correlation_id,
                ),
            )
        for st in value.get("statuses") or []:
            _add(
                out,
                kind,
                st,
                partial(_status, waba_id=waba_id, pnid=pnid, correlation_id=correlation_id),
            )
        if value.get("errors"):
            out.unparsed.append(Unparsed(kind, "value-level errors not handled yet", value))
    return out


def _add(
    out: Normalized,
    kind: str,
    item: dict[str, Any],
    build: Callable[[dict[str, Any]], tuple[TopicSpec, Event, str]],
) -> None:
    try:
        out.events.append(build(item))
    except (KeyError, ValueError, TypeError) as exc:
        out.unparsed.append(Unparsed(kind, f"{type(exc).__name__}: {exc}", item))


def _inbound(
    msg: dict[str, Any],
    waba_id: str | None,
    pnid: str,
    meta: dict[str, Any],
    names: dict[Any, Any],
    correlation_id: str,
) -> tuple[TopicSpec, Event, str]:
    kind = str(msg["type"])
    wa_id = str(msg["from"])
    text = (msg.get("text") or {}).get("body") if kind == "text" else None
    event = InboundMessageReceived(
        event_id=deterministic_id("inbound", msg["id"]),
        correlation_id=correlation_id,
        producer=PRODUCER,
        waba_id=waba_id,
        phone_number_id=pnid,
        display_phone_number=meta.get("display_phone_number"),
        wa_id=wa_id,
        contact_name=names.get(wa_id),
        message_id=str(msg["id"]),
        timestamp=_ts(msg["timestamp"]),
        message_type=kind,
        text=text,
        context_message_id=(msg.get("context") or {}).get("id"),
        referral=msg.get("referral"),
        content=msg.get(kind) or {},
        errors=[MetaError.from_payload(e) for e in msg.get("errors") or []],
    )
    return INBOUND_MESSAGES, event, conversation_key(pnid, wa_id)


def _status(
    st: dict[str, Any], *, waba_id: str | None, pnid: str, correlation_id: str
) -> tuple[TopicSpec, Event, str]:
    recipient = str(st["recipient_id"])
    event = MessageStatusReported(
        event_id=deterministic_id("status", st["id"], st["status"]),
        correlation_id=correlation_id,
        producer=PRODUCER,
        waba_id=waba_id,
        phone_number_id=pnid,
        message_id=str(st["id"]),
        status=str(st["status"]),
        timestamp=_ts(st["timestamp"]),
        recipient_id=recipient,
        biz_opaque_callback_data=st.get("biz_opaque_callback_data"),
        conversation=st.get("conversation"),
        pricing=st.get("pricing"),
        errors=[MetaError.from_payload(e) for e in st.get("errors") or []],
    )
    return STATUSES, event, conversation_key(pnid, recipient)
