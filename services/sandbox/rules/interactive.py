"""Field rules and limits of interactive messages: reply buttons, lists, CTA URL, location
request, flows (§1.3, §6.6)."""

from __future__ import annotations

from collections.abc import Mapping

from services.sandbox.rules import codes
from services.sandbox.rules.fields import as_dict, as_list, first, optional_text, required_text
from shared.events.common import MetaError

FOOTER_MAX = 60
HEADER_TEXT_MAX = 60
BODY_MAX = {"button": 1024, "list": 4096, "cta_url": 1024, "location_request_message": 1024}
_MEDIA_HEADERS = frozenset({"image", "video", "document"})
_SUBTYPES = frozenset({*BODY_MAX, "flow", "product", "product_list", "catalog_message"})


def check_interactive(obj: Mapping[str, object]) -> MetaError | None:
    subtype = obj.get("type")
    if subtype is None:
        return codes.missing_parameter("interactive.type is required")
    if subtype not in _SUBTYPES:
        return codes.invalid_parameter(f"interactive.type '{subtype}' is not supported")
    action = as_dict(obj.get("action"))
    if action is None:
        return codes.missing_parameter("interactive.action is required")
    return first(
        _check_body(str(subtype), obj),
        _check_footer(obj),
        _check_header(str(subtype), obj),
        _check_action(str(subtype), action),
    )


def _check_body(subtype: str, obj: Mapping[str, object]) -> MetaError | None:
    limit = BODY_MAX.get(subtype, 1024)
    body = as_dict(obj.get("body"))
    if body is None:
        if subtype in BODY_MAX or subtype == "flow":
            return codes.missing_parameter("interactive.body is required")
        return None
    return required_text(body, "text", "interactive.body", limit)


def _check_footer(obj: Mapping[str, object]) -> MetaError | None:
    if "footer" not in obj:
        return None
    footer = as_dict(obj["footer"])
    if footer is None:
        return codes.invalid_value("interactive.footer must be an object")
    return required_text(footer, "text", "interactive.footer", FOOTER_MAX)


def _check_header(subtype: str, obj: Mapping[str, object]) -> MetaError | None:
    if "header" not in obj:
        return None
    header = as_dict(obj["header"])
    kind = header.get("type") if header else None
    if header is None or kind is None:
        return codes.missing_parameter("interactive.header.type is required")
    if kind == "text":
        return required_text(header, "text", "interactive.header", HEADER_TEXT_MAX)
    if subtype == "list" or kind not in _MEDIA_HEADERS:
        return codes.invalid_parameter(f"a header of type '{kind}' is not allowed on {subtype}")
    media = as_dict(header.get(str(kind)))
    if media is None or (media.get("id") is None) == (media.get("link") is None):
        return codes.invalid_parameter(f"interactive.header.{kind} needs exactly one of id/link")
    return None


def _check_action(subtype: str, action: Mapping[str, object]) -> MetaError | None:
    if subtype == "button":
        return check_buttons(action)
    if subtype == "list":
        return check_list(action)
    if subtype in ("cta_url", "location_request_message", "flow"):
        return _check_named_action(subtype, action)
    return None


def _check_count(items: list[object] | None, key: str, most: int) -> MetaError | None:
    """`interactive.action.{key}` is a non-empty array of at most `most` items."""
    if not items:
        return codes.missing_parameter(f"interactive.action.{key} is required")
    if len(items) > most:
        return codes.invalid_parameter(f"interactive.action.{key} allows at most {most} {key}")
    return None


def check_buttons(action: Mapping[str, object]) -> MetaError | None:
    """1-3 reply buttons; ids (≤256) and titles (≤20) unique."""
    buttons = as_list(action.get("buttons"))
    error = _check_count(buttons, "buttons", 3)
    if error is not None or buttons is None:
        return error
    ids, titles = set(), set()
    for i, raw in enumerate(buttons):
        button = as_dict(raw)
        reply = as_dict(button.get("reply")) if button else None
        where = f"interactive.action.buttons[{i}].reply"
        if button is None or button.get("type") != "reply" or reply is None:
            return codes.invalid_parameter(f"{where} is required and type must be 'reply'")
        error = first(
            required_text(reply, "id", where, 256), required_text(reply, "title", where, 20)
        )
        if error is not None:
            return error
        if reply["id"] in ids or reply["title"] in titles:
            return codes.invalid_parameter("button ids and titles must be unique")
        ids.add(reply["id"])
        titles.add(reply["title"])
    return None


def check_list(action: Mapping[str, object]) -> MetaError | None:
    """Label ≤20; ≤10 sections; ≤10 rows in total; row id ≤200, title ≤24, description ≤72."""
    error = required_text(action, "button", "interactive.action", 20)
    if error is not None:
        return error
    sections = as_list(action.get("sections"))
    error = _check_count(sections, "sections", 10)
    if error is not None or sections is None:
        return error
    rows_total = 0
    for i, raw in enumerate(sections):
        section = as_dict(raw)
        rows = as_list(section.get("rows")) if section else None
        where = f"interactive.action.sections[{i}]"
        if section is None or not rows:
            return codes.missing_parameter(f"{where}.rows is required")
        if len(sections) > 1 and section.get("title") is None:
            return codes.missing_parameter(f"{where}.title is required with several sections")
        error = optional_text(section, "title", where, 24) or _check_rows(rows, where)
        if error is not None:
            return error
        rows_total += len(rows)
    if rows_total > 10:
        return codes.invalid_parameter("a list allows at most 10 rows in total")
    return None


def _check_rows(rows: list[object], where: str) -> MetaError | None:
    for j, raw in enumerate(rows):
        row = as_dict(raw)
        if row is None:
            return codes.invalid_value(f"{where}.rows[{j}] must be an object")
        error = first(
            required_text(row, "id", f"{where}.rows[{j}]", 200),
            required_text(row, "title", f"{where}.rows[{j}]", 24),
            optional_text(row, "description", f"{where}.rows[{j}]", 72),
        )
        if error is not None:
            return error
    return None


def _check_named_action(subtype: str, action: Mapping[str, object]) -> MetaError | None:
    name = {"cta_url": "cta_url", "location_request_message": "send_location", "flow": "flow"}
    if action.get("name") != name[subtype]:
        return codes.invalid_parameter(f"interactive.action.name must be '{name[subtype]}'")
    if subtype != "cta_url":
        return None
    params = as_dict(action.get("parameters"))
    if params is None:
        return codes.missing_parameter("interactive.action.parameters is required")
    url = params.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return codes.invalid_value("interactive.action.parameters.url must be an http(s) URL")
    return required_text(params, "display_text", "interactive.action.parameters", 20)
