"""Send-time template rules (§2.1, §2.7): the template exists in that language and is approved,
and the parameters match its variables in count, format and media header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.sandbox.rules import codes
from services.sandbox.rules.fields import as_dict, as_list
from services.sandbox.rules.template_model import MEDIA_FORMATS, Template, button_needs_parameter
from shared.events.common import MetaError

TemplateKey = tuple[str, str]
TEXT_TYPES = frozenset({"text", "currency", "date_time"})
HEADER_TEXT_MAX = 60
BODY_PARAM_MAX = 1024
OTP_MAX = 15


def find(obj: Mapping[str, object], templates: Mapping[TemplateKey, Template]) -> Template | None:
    language = as_dict(obj.get("language")) or {}
    return templates.get((str(obj.get("name")), str(language.get("code"))))


def check_template(
    obj: Mapping[str, object], templates: Mapping[TemplateKey, Template]
) -> MetaError | None:
    """Meta's error for sending `obj` (the request's `template` object), or None."""
    name = obj.get("name")
    language = as_dict(obj.get("language"))
    if not isinstance(name, str) or not name:
        return codes.missing_parameter("template.name is required")
    if language is None or not isinstance(language.get("code"), str):
        return codes.missing_parameter("template.language.code is required")
    template = find(obj, templates)
    if template is None:
        return codes.template_missing(name, str(language["code"]))
    if template.status == "PAUSED":
        return codes.template_paused(name)
    if template.status == "DISABLED":
        return codes.template_disabled(name)
    if template.status != "APPROVED":
        return codes.template_not_approved(name, template.language, template.status)
    return check_parameters(template, obj.get("components", []))


def check_parameters(template: Template, components: object) -> MetaError | None:
    sent = as_list(components)
    if sent is None or not all(isinstance(c, dict) for c in sent):
        return codes.invalid_parameter("template.components must be an array of objects")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for component in [c for c in sent if isinstance(c, dict)]:
        by_type.setdefault(str(component.get("type", "")).lower(), []).append(component)
    unknown = set(by_type) - {"header", "body", "button", "limited_time_offer", "carousel"}
    if unknown:
        return codes.invalid_parameter(f"unknown component type(s): {', '.join(sorted(unknown))}")
    return (
        _check_header(template, by_type.get("header", []))
        or _check_body(template, by_type.get("body", []))
        or _check_buttons(template, by_type.get("button", []))
    )


def _params(components: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    if len(components) > 1:
        return None
    raw = components[0].get("parameters", []) if components else []
    return [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else None


def _check_header(template: Template, components: list[dict[str, Any]]) -> MetaError | None:
    params = _params(components)
    if params is None:
        return codes.invalid_parameter("at most one header component with a parameters array")
    fmt = template.header_format
    if fmt in MEDIA_FORMATS or fmt == "LOCATION":
        wanted = "image" if fmt == "GIF" else str(fmt).lower()
        if not params:
            return codes.missing_parameter(f"header: a {wanted} parameter is required")
        if len(params) != 1 or params[0].get("type") != wanted:
            return codes.param_format(f"header: expected one '{wanted}' parameter")
        media = as_dict(params[0].get(wanted))
        if media is None:
            return codes.missing_parameter(f"header.parameters[0].{wanted} is required")
        if wanted != "location" and (media.get("id") is None) == (media.get("link") is None):
            return codes.invalid_parameter(f"header {wanted} needs exactly one of id/link")
        return None
    return _check_values(template, "header", template.header_variables(), params, HEADER_TEXT_MAX)


def _check_body(template: Template, components: list[dict[str, Any]]) -> MetaError | None:
    params = _params(components)
    if params is None:
        return codes.invalid_parameter("at most one body component with a parameters array")
    limit = OTP_MAX if template.category == "AUTHENTICATION" else BODY_PARAM_MAX
    return _check_values(template, "body", template.body_variables(), params, limit)


def _check_values(
    template: Template, where: str, names: list[str], params: list[dict[str, Any]], limit: int
) -> MetaError | None:
    expected = len(dict.fromkeys(names)) if template.parameter_format == "named" else len(names)
    if len(params) != expected:
        return codes.param_count(f"{where}: expected {expected} parameters, got {len(params)}")
    for i, param in enumerate(params):
        kind = param.get("type")
        if kind not in TEXT_TYPES or not isinstance(param.get(str(kind)), str | dict):
            return codes.param_format(f"{where}.parameters[{i}]: expected a text parameter")
        named = param.get("parameter_name")
        if template.parameter_format == "named" and named not in names:
            return codes.param_format(f"{where}.parameters[{i}]: unknown parameter_name {named!r}")
        if template.parameter_format != "named" and named is not None:
            return codes.param_format(f"{where}: positional template takes no parameter_name")
        text = param.get("text")
        if kind == "text" and (not isinstance(text, str) or not text.strip()):
            return codes.param_value(f"{where}.parameters[{i}].text must be a non-empty string")
        if kind == "text" and isinstance(text, str) and len(text) > limit:
            return codes.param_value(f"{where}.parameters[{i}].text is longer than {limit}")
        if template.category == "AUTHENTICATION" and not _plain_code(str(text)):
            return codes.param_value(f"{where}.parameters[{i}]: a code has no URL or emoji")
    return None


def _plain_code(text: str) -> bool:
    """Authentication parameters carry no URLs and no emoji (§2.4)."""
    return "://" not in text and "www." not in text and all(ord(c) < 0x2190 for c in text)


def _check_buttons(template: Template, components: list[dict[str, Any]]) -> MetaError | None:
    buttons = template.buttons()
    given: dict[int, dict[str, Any]] = {}
    for component in components:
        index = component.get("index")
        try:
            position = int(str(index))
        except ValueError:
            return codes.invalid_parameter(f"button index {index!r} is not a number")
        if not 0 <= position < len(buttons) or position in given:
            return codes.invalid_parameter(f"button index {position} matches no template button")
        given[position] = component
    for position, button in enumerate(buttons):
        wanted = button_needs_parameter(button)
        sent = given.get(position)
        if wanted is None:
            continue
        params = sent.get("parameters") if sent else None
        if not isinstance(params, list) or len(params) != 1:
            return codes.param_count(f"button {position} ({wanted}) needs exactly one parameter")
        if sent is not None and sent.get("sub_type") != wanted:
            return codes.param_format(f"button {position}: sub_type must be '{wanted}'")
    return None
