"""Hypothesis strategies for hostile webhook input built from Meta's payload shapes (rules §4.3-
§4.7, §9.1), and the oracle that says whether a typed event states exactly what its item said.

A valid item is drawn from a real shape with drawn values; an invalid one is a valid item with one
known defect, carried with the words its reason must contain and whether it is malformed or a
shape ingest does not type yet."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from shared.events.account import WebhookErrorReported
from shared.events.envelope import Event
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported

PNID = "106540352242922"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": PNID}
BSUID = "US.13491208655302741918"

clean_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
phones = st.text("0123456789", min_size=8, max_size=15)
wamids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=_-", min_size=4,
                 max_size=60).map(lambda s: f"wamid.{s}")  # fmt: skip
seconds = st.integers(0, 4_000_000_000)
bsuids = st.builds(lambda cc, rest: f"{cc}.{rest}", st.sampled_from(["US", "BR", "IN", "GB"]),
                   st.text("0123456789ABCDEFabcdef", min_size=1, max_size=128))  # fmt: skip

OBJECTS: dict[str, st.SearchStrategy[Any]] = {
    "text": st.fixed_dictionaries({"body": clean_text}),
    "image": st.fixed_dictionaries(
        {"id": st.text("0123456789", min_size=1, max_size=20), "mime_type": st.just("image/jpeg")},
        optional={"caption": clean_text, "sha256": st.just("abc=")},
    ),
    "audio": st.fixed_dictionaries(
        {"id": st.just("1013859600285441"), "mime_type": st.just("audio/ogg")},
        optional={"voice": st.booleans()},
    ),
    "location": st.fixed_dictionaries(
        {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)},
        optional={"name": clean_text, "address": clean_text},
    ),
    "reaction": st.fixed_dictionaries({"message_id": wamids}, optional={"emoji": clean_text}),
    "button": st.fixed_dictionaries({"payload": clean_text, "text": clean_text}),
    "interactive": st.builds(
        lambda i, t: {"type": "button_reply", "button_reply": {"id": i, "title": t}},
        st.text("abc-0123", min_size=1, max_size=10),
        clean_text,
    ),
    "order": st.builds(
        lambda price, qty: {
            "catalog_id": "c1",
            "text": "hi",
            "product_items": [
                {
                    "product_retailer_id": "p1",
                    "quantity": qty,
                    "item_price": price,
                    "currency": "USD",
                }
            ],
        },
        st.floats(0, 1e6),
        st.integers(1, 1000),
    ),
    "contacts": st.just([{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]),
}
REFERRAL = {"source_url": "https://fb.me/x", "source_id": "120", "source_type": "ad",
            "headline": "Sale", "ctwa_clid": "ARAk"}  # fmt: skip


@st.composite
def valid_message(draw: st.DrawFn, wamid: str | None = None) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(OBJECTS)))
    item: dict[str, Any] = {"from": draw(phones), "id": wamid or draw(wamids)}
    item.update({"timestamp": str(draw(seconds)), "type": kind, kind: draw(OBJECTS[kind])})
    if draw(st.booleans()):
        item["from_user_id"] = draw(bsuids)
    if draw(st.booleans()):
        item["context"] = {"from": "15550783881", "id": draw(wamids)}
    if kind == "text" and draw(st.booleans()):
        item["referral"] = REFERRAL
    return copy.deepcopy(item)


meta_errors = st.fixed_dictionaries(
    {"code": st.integers(0, 200_000)},
    optional={"title": clean_text, "message": clean_text,
              "error_data": st.fixed_dictionaries({"details": clean_text})},
)  # fmt: skip


@st.composite
def valid_status(draw: st.DrawFn) -> dict[str, Any]:
    state = draw(st.sampled_from(["sent", "delivered", "read", "played", "failed", "deleted"]))
    item: dict[str, Any] = {"id": draw(wamids), "status": state}
    item.update({"timestamp": str(draw(seconds)), "recipient_id": draw(phones)})
    optional = {
        "biz_opaque_callback_data": clean_text,
        "pricing": st.just({"billable": True, "pricing_model": "PMP", "category": "utility"}),
        "conversation": st.just({"id": "c1", "origin": {"type": "service"}}),
        "errors": st.lists(meta_errors, max_size=2),
        "recipient_user_id": bsuids,
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            item[name] = draw(values)
    return copy.deepcopy(item)


@dataclass(frozen=True)
class Hostile:
    """An item with one known defect, the words its reason must contain, and its kind."""

    item: Any
    says: str
    kind: str = "malformed"


def _set(item: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(item)
    for name, value in fields.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _nul(item: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(item)
    out.setdefault("context", {})["note"] = "a\x00b"
    return out


MESSAGE_DEFECTS = [
    lambda m: Hostile(
        _set(m, **{"from": None, "from_user_id": None}), "`from` and `from_user_id` are both"
    ),
    lambda m: Hostile(_set(m, **{"from": BSUID}), "`from` holds a BSUID"),
    lambda m: Hostile(_set(m, from_user_id="16505551234"), "`from_user_id` is not a BSUID"),
    lambda m: Hostile(_set(m, group_id="120363"), "a group message", "not typed yet"),
    lambda m: Hostile(_set(m, **{"from": "+" + m["from"]}), "neither a phone number"),
    lambda m: Hostile(_set(m, from_user_id="US.1\r\nSet-Cookie: a"), "control character"),
    lambda m: Hostile(_set(m, from_user_id="US." + "7" * 129), "longer than 131"),
    lambda m: Hostile(_set(m, type="image" if m["type"] != "image" else "text"), "but its type is"),
    lambda m: Hostile(_set(m, **{m["type"]: None}), "but no"),
    lambda m: Hostile(_nul(m), "carries a NUL character"),
    lambda m: Hostile(_set(m, extra=float("nan")), "`extra` is not a finite number"),
    lambda m: Hostile(_set(m, id=m["id"] + " x"), "`id` is not a well-formed identifier"),
    lambda m: Hostile(_set(m, timestamp=float(m["timestamp"])), "`timestamp`"),
    lambda m: Hostile(_set(m, timestamp="-" + m["timestamp"]), "`timestamp`"),
    lambda m: Hostile(_set(m, errors=[{"code": "1"}]), "`errors[0].code` is not an integer"),
    lambda m: Hostile(_set(m, context="wamid.x"), "`context` is not an object"),
    lambda _: Hostile(17, "not an object"),
    lambda _: Hostile(["a", "list"], "not an object"),
    lambda _: Hostile(None, "not an object"),
]
STATUS_DEFECTS = [
    lambda s: Hostile(_set(s, recipient_id=None, recipient_user_id=None),
                      "`recipient_id` and `recipient_user_id` are both missing"),
    lambda s: Hostile(_set(s, recipient_user_id="US.1\n"), "control character"),
    lambda s: Hostile(_set(s, recipient_type="group"), "group message", "not typed yet"),
    lambda s: Hostile(_set(s, status=s["status"] + "\r\n"), "`status` is not a well-formed"),
    lambda s: Hostile(_set(s, pricing={"category": "utility\x00"}), "carries a NUL character"),
    lambda s: Hostile(_set(s, pricing={"rate": float("inf")}), "is not a finite number"),
    lambda s: Hostile(_set(s, timestamp="later"), "`timestamp` is not epoch seconds"),
    lambda s: Hostile(_set(s, biz_opaque_callback_data=7), "is not a string"),
    lambda s: Hostile(_set(s, id=None), "`id` is not a string"),
    lambda _: Hostile("wamid.only", "not an object"),
]  # fmt: skip


def hostile(
    valid: st.SearchStrategy[dict[str, Any]], defects: list[Any]
) -> st.SearchStrategy[Hostile]:
    return st.builds(lambda item, defect: defect(item), valid, st.sampled_from(defects))


def _content(item: dict[str, Any]) -> dict[str, Any]:
    own = item.get(item["type"])
    return {} if own is None else own if isinstance(own, dict) else {item["type"]: own}


def _at(raw: object) -> datetime:
    return datetime.fromtimestamp(int(str(raw)), UTC)


def states(event: Event, item: object, pnid: str = PNID) -> bool:
    """Whether typed `event` (an inbound message, a status or a value-level error) says exactly
    what `item` says, and nothing the item does not."""
    if not isinstance(item, dict):
        return False
    try:
        if isinstance(event, InboundMessageReceived):
            return _inbound_states(event, item, pnid)
        if isinstance(event, MessageStatusReported):
            return _status_states(event, item, pnid)
        if isinstance(event, WebhookErrorReported):
            return event.error.code == item["code"] and event.phone_number_id == pnid
    except (KeyError, TypeError, ValueError, OverflowError):
        return False
    return False


def _inbound_states(event: InboundMessageReceived, item: dict[str, Any], pnid: str) -> bool:
    kind = item["type"]
    who = (pnid, item["id"], item.get("from") or None, item.get("from_user_id") or None)
    return (
        (event.phone_number_id, event.message_id, event.wa_id, event.user_id) == who
        and (event.message_type, event.timestamp) == (kind, _at(item["timestamp"]))
        and event.content == _content(item)
        and event.text == (item["text"]["body"] if kind == "text" else None)
        and event.context == (item.get("context") or None)
        and event.referral == (item.get("referral") or None)
        and [e.code for e in event.errors] == [e["code"] for e in item.get("errors") or []]
    )  # fmt: skip


def _status_states(event: MessageStatusReported, item: dict[str, Any], pnid: str) -> bool:
    which = (pnid, item["id"], item["status"])
    who = (item.get("recipient_id") or None, item.get("recipient_user_id") or None)
    return (
        (event.phone_number_id, event.message_id, event.status) == which
        and (event.recipient_id, event.recipient_user_id) == who
        and event.timestamp == _at(item["timestamp"])
        and event.biz_opaque_callback_data == item.get("biz_opaque_callback_data")
        and event.pricing == (item.get("pricing") or None)
        and event.conversation == (item.get("conversation") or None)
        and [e.code for e in event.errors] == [e["code"] for e in item.get("errors") or []]
    )  # fmt: skip


def contains(fragment: object, part: object) -> bool:
    """Whether `part` is `fragment` or lies inside it (the same object, or an equal one)."""
    stack = [fragment]
    while stack:
        node = stack.pop()
        if node is part or (type(node) is type(part) and node == part):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
