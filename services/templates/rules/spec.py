"""The send-time parameter spec of a template: which header, body and button values a send
must carry. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.templates.rules import variables
from shared.events.template_states import ButtonParameter, HeaderKind, ParameterSpec

HEADER_KINDS: dict[str, HeaderKind] = {
    "TEXT": "text",
    "IMAGE": "image",
    "VIDEO": "video",
    "DOCUMENT": "document",
    "LOCATION": "location",
}


def component(components: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in components if str(c.get("type", "")).upper() == kind), None)


def button_sub_type(button: Mapping[str, Any]) -> str | None:
    """The send-time sub_type a button needs a value for, or None for a static button."""
    kind = str(button.get("type", "")).upper()
    if kind == "URL" and variables.placeholders(str(button.get("url", ""))):
        return "url"
    if kind == "OTP":
        return "url"  # the code is sent twice: in the body and as the button's URL suffix
    if kind == "COPY_CODE":
        return "copy_code"
    if kind == "FLOW":
        return "flow"
    return None


def parameter_spec(
    category: str, parameter_format: str, components: Sequence[Mapping[str, Any]]
) -> ParameterSpec:
    named = parameter_format.lower() == "named"
    header = component(components, "HEADER")
    body = component(components, "BODY")
    group = component(components, "BUTTONS")
    raw_buttons = group.get("buttons") if group else None
    listed = raw_buttons if isinstance(raw_buttons, list) else []
    button_list = [b for b in listed if isinstance(b, Mapping)]
    header_kind: HeaderKind = "none"
    header_vars: list[str] = []
    if header is not None:
        header_kind = HEADER_KINDS.get(str(header.get("format", "TEXT")).upper(), "none")
        if header_kind == "text":
            header_vars = variables.names(str(header.get("text", "")))
    if category.upper() == "AUTHENTICATION":
        body_vars = ["1"]
        named = False
    else:
        body_vars = variables.names(str(body.get("text", ""))) if body else []
    return ParameterSpec(
        parameter_format="named" if named else "positional",
        header_kind=header_kind,
        header_count=0 if named else len(header_vars),
        header_names=tuple(header_vars) if named else (),
        body_count=0 if named else len(body_vars),
        body_names=tuple(body_vars) if named else (),
        buttons=tuple(
            ButtonParameter(index=i, sub_type=sub)
            for i, b in enumerate(button_list)
            if (sub := button_sub_type(b)) is not None
        ),
    )
