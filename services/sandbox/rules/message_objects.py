"""Field rules and limits of each free-form message object (§1.3), as pure checks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from services.sandbox.rules import codes, interactive
from services.sandbox.rules.fields import as_dict, as_list, first, optional_text, required_text
from shared.events.common import MetaError
from shared.events.message_types import MEDIA

CAPTION_MAX = 1024
_CAPTIONED = frozenset({"image", "video", "document"})


def check_text(text: Mapping[str, object]) -> MetaError | None:
    """A body of 1 to 4096 characters; `preview_url` a boolean."""
    body = text.get("body")
    if not isinstance(body, str) or not body:
        return codes.invalid_parameter("text.body is required")
    if len(body) > 4096:
        return codes.invalid_parameter("text.body is longer than 4096 characters")
    preview = text.get("preview_url")
    if preview is not None and not isinstance(preview, bool):
        return codes.invalid_parameter("text.preview_url must be a boolean")
    return None


def check_media(kind: str, media: Mapping[str, object]) -> MetaError | None:
    """Exactly one of `id`/`link`; caption only on image/video/document; filename on document."""
    has_id, has_link = media.get("id") is not None, media.get("link") is not None
    if has_id == has_link:
        return codes.invalid_parameter(f"{kind} needs exactly one of 'id' or 'link'")
    if has_id and (not isinstance(media["id"], str) or not media["id"]):
        return codes.invalid_value(f"{kind}.id must be a non-empty string")
    link = media.get("link")
    if has_link and (not isinstance(link, str) or not link.startswith(("https://", "http://"))):
        return codes.invalid_value(f"{kind}.link must be an http(s) URL")
    if "caption" in media and kind not in _CAPTIONED:
        return codes.invalid_parameter(f"{kind} does not take a caption")
    if "filename" in media and kind != "document":
        return codes.invalid_parameter(f"{kind} does not take a filename")
    if "voice" in media and (kind != "audio" or not isinstance(media["voice"], bool)):
        return codes.invalid_parameter("voice is a boolean of audio messages only")
    return first(
        optional_text(media, "caption", kind, CAPTION_MAX),
        optional_text(media, "filename", kind, 240),
    )


def _coordinate(value: object, bound: float) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return -bound <= number <= bound


def check_location(location: Mapping[str, object]) -> MetaError | None:
    for key, bound in (("latitude", 90.0), ("longitude", 180.0)):
        if location.get(key) is None:
            return codes.missing_parameter(f"location.{key} is required")
        if isinstance(location[key], bool) or not _coordinate(location[key], bound):
            return codes.invalid_value(f"location.{key} must be a number within ±{bound:g}")
    return first(
        optional_text(location, "name", "location", 1000),
        optional_text(location, "address", "location", 1000),
    )


def check_contacts(contacts: object) -> MetaError | None:
    """`contacts` is an array of cards, each with `name.formatted_name`."""
    cards = as_list(contacts)
    if not cards:
        return codes.missing_parameter("contacts must be a non-empty array")
    for i, raw in enumerate(cards):
        card = as_dict(raw)
        name = as_dict(card.get("name")) if card else None
        if card is None or name is None:
            return codes.missing_parameter(f"contacts[{i}].name is required")
        error = required_text(name, "formatted_name", f"contacts[{i}].name", 1000)
        if error is not None:
            return error
        for key in ("phones", "emails", "addresses", "urls"):
            if key in card and as_list(card[key]) is None:
                return codes.invalid_value(f"contacts[{i}].{key} must be an array")
    return None


def check_reaction(reaction: Mapping[str, object]) -> MetaError | None:
    error = required_text(reaction, "message_id", "reaction", 128)
    if error is not None:
        return error
    emoji = reaction.get("emoji")
    if emoji is None:
        return codes.missing_parameter("reaction.emoji is required (empty removes a reaction)")
    if not isinstance(emoji, str) or len(emoji) > 10:
        return codes.invalid_value("reaction.emoji must be a single emoji or empty")
    return None


_Check = Callable[[Mapping[str, object]], MetaError | None]
_CHECKS: dict[str, _Check] = {
    "text": check_text,
    "location": check_location,
    "reaction": check_reaction,
    "interactive": interactive.check_interactive,
    **{kind: functools.partial(check_media, kind) for kind in MEDIA},
}


def check_object(kind: str, payload: Mapping[str, object]) -> MetaError | None:
    """The object named by `type`, checked with that type's rules (templates checked elsewhere)."""
    if kind == "contacts":
        return check_contacts(payload.get("contacts"))
    check = _CHECKS.get(kind)
    obj = as_dict(payload.get(kind))
    if check is None or obj is None:
        return None
    return check(obj)
