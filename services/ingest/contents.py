"""What the object of each inbound message type must hold (rules §4.4) for its event to say
what Meta sent: `"type": "image"` needs an `image` with a media id, a location finite
coordinates in range, and so on. Pure; each check raises `Malformed` naming the field.

Types this table does not know (Meta adds some) keep their object as it is, provided it is an
object or a list; extra fields Meta adds to a known object are kept too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from services.ingest import coerce, identities
from services.ingest.coerce import Malformed
from shared.events.message_types import INBOUND, MEDIA

Check = Callable[[object, str], object]
Shape = Mapping[str, tuple[Check, bool]]  # field -> (check, required)


def _number(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise Malformed(f"`{where}` is not a finite number")
    return float(raw)


def _between(low: float, high: float) -> Check:
    def check(raw: object, where: str) -> float:
        value = _number(raw, where)
        if not low <= value <= high:
            raise Malformed(f"`{where}` is outside [{low:g}, {high:g}]")
        return value

    return check


def _flag(raw: object, where: str) -> bool:
    if not isinstance(raw, bool):
        raise Malformed(f"`{where}` is not true or false")
    return raw


def _texts(raw: object, where: str) -> str | None:
    return coerce.string(raw, where)


MEDIA_SHAPE: Shape = {
    "id": (coerce.identifier, True),
    "mime_type": (_texts, False),
    "sha256": (_texts, False),
    "caption": (_texts, False),
    "filename": (_texts, False),
    "url": (_texts, False),
    "voice": (_flag, False),
    "animated": (_flag, False),
}
PRODUCT_ITEM: Shape = {
    "product_retailer_id": (coerce.identifier, True),
    "quantity": (_number, True),
    "item_price": (_number, True),
    "currency": (coerce.identifier, True),
}
REPLIES: Mapping[str, Shape] = {
    "button_reply": {"id": (coerce.identifier, True), "title": (_texts, True)},
    "list_reply": {
        "id": (coerce.identifier, True),
        "title": (_texts, True),
        "description": (_texts, False),
    },
    "nfm_reply": {
        "response_json": (_texts, True),
        "body": (_texts, False),
        "name": (_texts, False),
    },
}


def _fields(raw: object, where: str, shape: Shape) -> dict[str, Any]:
    own = coerce.an_object(raw, where)
    for name, (check, required) in shape.items():
        value = own.get(name)
        if value is None:
            if required:
                raise Malformed(f"`{coerce.at(where, name)}` is missing")
            continue
        check(value, coerce.at(where, name))
    return own


def _shaped(shape: Shape) -> Check:
    return lambda raw, where: _fields(raw, where, shape)


def _products(raw: object, where: str) -> list[object]:
    items = coerce.elements(raw, where)
    for i, item in enumerate(items):
        _fields(item, f"{where}[{i}]", PRODUCT_ITEM)
    return items


def _interactive(raw: object, where: str) -> dict[str, Any]:
    own = coerce.an_object(raw, where)
    kind = coerce.identifier(own.get("type"), coerce.at(where, "type"))
    _fields(own.get(kind), coerce.at(where, kind), REPLIES.get(kind, {}))
    return own


def _system(raw: object, where: str) -> dict[str, Any]:
    own = _fields(raw, where, {"body": (_texts, False), "type": (coerce.identifier, False)})
    identities.optional_identity(own, identities.SYSTEM_NOW, where)
    identities.optional_identity(own, identities.SYSTEM_BEFORE, where)
    return own


def _cards(raw: object, where: str) -> list[object]:
    cards = coerce.dicts(raw, where)
    if not cards:
        raise Malformed(f"`{where}` is empty")
    return list(cards)


CONTENT: Mapping[str, Check] = {
    "text": _shaped({"body": (_texts, True)}),
    **dict.fromkeys(MEDIA, _shaped(MEDIA_SHAPE)),
    "location": _shaped(
        {
            "latitude": (_between(-90, 90), True),
            "longitude": (_between(-180, 180), True),
            "name": (_texts, False),
            "address": (_texts, False),
            "url": (_texts, False),
        }
    ),
    "reaction": _shaped({"message_id": (coerce.identifier, True), "emoji": (_texts, False)}),
    "button": _shaped({"text": (_texts, True), "payload": (_texts, False)}),
    "interactive": _interactive,
    "contacts": _cards,
    "order": _shaped(
        {
            "catalog_id": (coerce.identifier, True),
            "text": (_texts, False),
            "product_items": (_products, True),
        }
    ),
    "system": _system,
    "revoke": _shaped({"original_message_id": (coerce.identifier, True)}),
    "edit": _shaped(
        {"original_message_id": (coerce.identifier, True), "message": (coerce.an_object, True)}
    ),
}
OPTIONAL_CONTENT = frozenset({"unsupported"})
"""Types whose object Meta may leave out (`unsupported` comes with only `errors[]`)."""


def content_of(msg: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The object of `msg`'s type, checked against its shape; a list (`contacts`) is wrapped
    under the type's name. A message carrying another type's object does not match its type."""
    others = sorted(k for k in INBOUND & msg.keys() if k != kind)
    if others and kind not in OPTIONAL_CONTENT:
        raise Malformed(f"carries `{others[0]}` but its type is `{kind}`")
    own = msg.get(kind)
    if own is None:
        if kind in CONTENT:
            raise Malformed(f"has type `{kind}` but no `{kind}` object")
        return {}
    check = CONTENT.get(kind)
    if check is not None:
        check(own, kind)
    elif not isinstance(own, dict | list):
        raise Malformed(f"`{kind}` is neither an object nor a list")
    return own if isinstance(own, dict) else {kind: own}
