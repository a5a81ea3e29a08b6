"""Meta's synchronous creation rules of `POST /{waba-id}/message_templates` (§2.2, §6.6, §6.8),
as pure checks returning the error Meta answers with (or None)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.sandbox.rules import codes
from services.sandbox.rules.fields import as_dict, as_list
from services.sandbox.rules.template_model import CATEGORIES, VARIABLE, Template, variables
from shared.events.common import MetaError

NAME = re.compile(r"[a-z0-9_]{1,512}")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2,4})?")
HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "GIF", "LOCATION"})
BUTTON_TYPES = frozenset({"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW"})
BUTTON_CAPS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "QUICK_REPLY": 10}
LIMITS = {"HEADER": 60, "BODY": 1024, "FOOTER": 60}
MAX_PER_HOUR = 100
MAX_TEMPLATES = 250


def check_creation(
    body: Mapping[str, Any],
    existing: Sequence[Template],
    created_last_hour: int,
    reserved: Collection[str] = frozenset(),
) -> MetaError | None:
    """The error Meta answers a template creation request with, or None when it is accepted."""
    name, language = body.get("name"), body.get("language")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return codes.invalid_parameter("name must be 1-512 lowercase letters, digits or '_'")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        return codes.invalid_parameter("language must be a supported code such as en_US")
    if str(body.get("category", "")).upper() not in CATEGORIES:
        return codes.invalid_parameter(f"category must be one of {', '.join(CATEGORIES)}")
    if body.get("parameter_format", "positional") not in ("named", "positional"):
        return codes.invalid_parameter("parameter_format must be 'named' or 'positional'")
    if any(t.name == name and t.language == language for t in existing):
        return codes.template_exists(name, language)
    if name in reserved:
        return codes.invalid_parameter(
            f"the name {name} belonged to a deleted approved template; it is free after 30 days"
        )
    if created_last_hour >= MAX_PER_HOUR:
        return codes.template_rate("at most 100 templates may be created per WABA per hour")
    if len(existing) >= MAX_TEMPLATES:
        return codes.template_limit()
    return check_components(str(body["category"]).upper(), body.get("components"))


def check_components(category: str, raw: object) -> MetaError | None:
    components = as_list(raw)
    if not components or not all(isinstance(c, dict) for c in components):
        return codes.invalid_parameter("components must be a non-empty array of objects")
    kinds = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
    unknown = set(kinds) - {"HEADER", "BODY", "FOOTER", "BUTTONS"}
    if unknown:
        return codes.invalid_parameter(f"unknown component type(s) {sorted(unknown)}")
    if kinds.count("BODY") != 1:
        return codes.invalid_parameter("a template needs exactly one BODY component")
    if any(kinds.count(k) > 1 for k in ("HEADER", "FOOTER", "BUTTONS")):
        return codes.invalid_parameter("at most one HEADER, FOOTER and BUTTONS component")
    for kind, component in zip(kinds, components, strict=True):
        assert isinstance(component, dict)
        error = _check_component(category, kind, component)
        if error is not None:
            return error
    if category == "AUTHENTICATION" and "BUTTONS" not in kinds:
        return codes.invalid_parameter("authentication templates need an OTP button")
    return None


def _check_component(category: str, kind: str, component: dict[str, Any]) -> MetaError | None:
    if kind == "BUTTONS":
        return check_buttons(category, component.get("buttons"))
    if kind == "HEADER":
        fmt = str(component.get("format", "")).upper()
        if fmt not in HEADER_FORMATS:
            return codes.bad_format(
                2388047, f"header format must be one of {sorted(HEADER_FORMATS)}"
            )
        if category == "AUTHENTICATION" or (fmt == "LOCATION" and category not in CATEGORIES[:2]):
            return codes.bad_format(
                2388047, f"a {fmt} header is not allowed in {category} templates"
            )
        if fmt != "TEXT":
            return None
    if category == "AUTHENTICATION" and kind == "BODY":
        return None
    if category == "AUTHENTICATION" and kind == "FOOTER":
        return _check_auth_footer(component)
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        return codes.missing_parameter(f"{kind}.text is required")
    if len(text) > LIMITS[kind]:
        return codes.too_long(f"{kind}.text", LIMITS[kind])
    return _check_text_variables(kind, text, component)


def _check_auth_footer(component: dict[str, Any]) -> MetaError | None:
    """An authentication footer is Meta's fixed expiry line: no text, only the minutes (§2.6)."""
    minutes = component.get("code_expiration_minutes")
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 90:
        return codes.invalid_parameter("code_expiration_minutes must be 1 to 90")
    return None


def _check_text_variables(kind: str, text: str, component: dict[str, Any]) -> MetaError | None:
    found = variables(text)
    if kind == "FOOTER" and found:
        return codes.bad_format(2388073, "a footer cannot contain variables")
    if kind == "HEADER" and len(found) > 1:
        return codes.bad_format(2388047, "a text header allows at most one variable")
    if not found:
        return None
    stripped = text.strip()
    if kind == "BODY" and (stripped.startswith("{{") or stripped.endswith("}}")):
        return codes.bad_format(2388299, "variables cannot be at the start or end of the body")
    words = len(VARIABLE.sub(" ", text).split())
    if kind == "BODY" and words < 2 * len(found):
        return codes.bad_format(2388293, "too many variables for the length of the body")
    if not as_dict(component.get("example")):
        return codes.invalid_parameter(f"{kind}: examples are required for every variable")
    return None


def check_buttons(category: str, raw: object) -> MetaError | None:
    buttons = as_list(raw)
    if not buttons or len(buttons) > 10 or not all(isinstance(b, dict) for b in buttons):
        return codes.invalid_parameter("BUTTONS holds 1 to 10 button objects")
    kinds = [str(b.get("type", "")).upper() for b in buttons if isinstance(b, dict)]
    if set(kinds) - BUTTON_TYPES:
        return codes.invalid_parameter(
            f"unknown button type(s) {sorted(set(kinds) - BUTTON_TYPES)}"
        )
    for kind, cap in BUTTON_CAPS.items():
        if kinds.count(kind) > cap:
            return codes.invalid_parameter(f"at most {cap} {kind} button(s)")
    replies = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if replies and replies[-1] - replies[0] + 1 != len(replies):
        return codes.invalid_parameter("quick-reply buttons must be grouped together")
    if category == "AUTHENTICATION" and "OTP" not in kinds:
        return codes.invalid_parameter("authentication templates need an OTP button")
    for button in buttons:
        assert isinstance(button, dict)
        error = _check_button(button)
        if error is not None:
            return error
    return None


def _check_button(button: dict[str, Any]) -> MetaError | None:
    kind = str(button.get("type")).upper()
    if kind == "OTP":
        return None
    label = button.get("text")
    if not isinstance(label, str) or not label:
        return codes.missing_parameter(f"{kind} button text is required")
    if len(label) > 25:
        return codes.too_long(f"{kind} button text", 25)
    url = button.get("url")
    if kind == "URL" and (not isinstance(url, str) or len(url) > 2000):
        return codes.invalid_parameter("URL buttons need a url of at most 2000 characters")
    if kind == "URL" and VARIABLE.search(str(url)) and not button.get("example"):
        return codes.invalid_parameter("a URL button with a variable needs an example")
    phone = button.get("phone_number")
    if kind == "PHONE_NUMBER" and (not isinstance(phone, str) or len(phone) > 20):
        return codes.invalid_parameter("PHONE_NUMBER buttons need a phone_number of at most 20")
    return None


EDITABLE = frozenset({"APPROVED", "REJECTED", "PAUSED"})
EDIT_FIELDS = frozenset({"category", "components", "message_send_ttl_seconds"})


def check_edit(template: Template, body: Mapping[str, Any], now: datetime) -> MetaError | None:
    """`POST /{template-id}` (§2.2): approved, rejected or paused templates only; the category of
    an approved template stays; an approved one at most once a day and 10 times in 30 days."""
    if template.status not in EDITABLE:
        return codes.invalid_parameter(f"a {template.status} template cannot be edited")
    unknown = set(body) - EDIT_FIELDS
    if unknown or not body:
        return codes.invalid_parameter(f"only {', '.join(sorted(EDIT_FIELDS))} can be edited")
    category = str(body.get("category", template.category)).upper()
    if category not in CATEGORIES:
        return codes.invalid_parameter(f"category must be one of {', '.join(CATEGORIES)}")
    if template.status == "APPROVED":
        if category != template.category:
            return codes.invalid_parameter("the category of an approved template cannot be edited")
        if any(at > now - timedelta(days=1) for at in template.edits):
            return codes.invalid_parameter("an approved template can be edited once in 24 hours")
        if sum(at > now - timedelta(days=30) for at in template.edits) >= 10:
            return codes.invalid_parameter("an approved template can be edited 10 times in 30 days")
    if "components" in body:
        return check_components(category, body["components"])
    return None
