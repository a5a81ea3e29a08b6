"""Meta's creation rules for a message template, checked before anything is submitted.

`check(template)` takes the template as Meta's `POST /{waba-id}/message_templates` body and
returns every broken rule (errors) and every category concern (warnings). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.templates.rules import authentication, buttons, components, guidance
from services.templates.rules.issues import Issue, Verdict, error
from services.templates.rules.variables import ParameterFormat

NAME = re.compile(r"[a-z0-9_]+")
NAME_MAX = 512
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2}|_[A-Z][a-z]{3})?")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
MIN_TTL = 30


def check(template: Mapping[str, Any]) -> Verdict:
    """Every creation rule and the category guidance; the template is submittable when ok."""
    issues = validate(template)
    if not any(i.field == "components" or i.field.startswith("components[") for i in issues):
        issues += guidance.advise(template)
    return Verdict.of(issues)


def validate(template: Mapping[str, Any]) -> list[Issue]:
    issues = check_name(template.get("name"))
    issues += check_language(template.get("language"))
    category = str(template.get("category", "")).upper()
    if category not in CATEGORIES:
        issues.append(
            error("category", "INVALID_CATEGORY", f"category is one of {', '.join(CATEGORIES)}")
        )
    fmt, format_issues = parameter_format(template)
    issues += format_issues
    found, structure = index_components(template.get("components"))
    issues += structure
    if structure:
        return issues
    ttl = template.get("message_send_ttl_seconds")
    if category == "AUTHENTICATION":
        issues += authentication.check_ttl(ttl)
        return issues + authentication.check_authentication(found)
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < MIN_TTL):
        issues.append(
            error("message_send_ttl_seconds", "INVALID_TTL", f"whole seconds, at least {MIN_TTL}")
        )
    return issues + _check_standard(found, fmt, category)


def check_name(name: object) -> list[Issue]:
    if not isinstance(name, str) or not name:
        return [error("name", "NAME_REQUIRED", "a name is required")]
    if len(name) > NAME_MAX:
        return [error("name", "TOO_LONG", f"the name has {len(name)} characters; at most 512")]
    if not NAME.fullmatch(name):
        return [error("name", "INVALID_NAME", "lowercase letters, digits and underscores only")]
    return []


def check_language(language: object) -> list[Issue]:
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        return [
            error(
                "language",
                "INVALID_LANGUAGE",
                "a language code such as en, en_US, pt_BR or zh_CN",
            )
        ]
    return []


def parameter_format(template: Mapping[str, Any]) -> tuple[ParameterFormat, list[Issue]]:
    raw = template.get("parameter_format")
    value = str(raw).lower() if raw is not None else "positional"
    if value == "named":
        return "named", []
    if value == "positional":
        return "positional", []
    return "positional", [
        error(
            "parameter_format",
            "INVALID_PARAMETER_FORMAT",
            "parameter_format is named or positional",
        )
    ]


def index_components(
    raw: object,
) -> tuple[dict[str, tuple[int, Mapping[str, Any]]], list[Issue]]:
    """Components by type (with their index); errors for shapes, unknown types, duplicates."""
    if not isinstance(raw, list) or not raw:
        return {}, [error("components", "COMPONENTS_REQUIRED", "components is a non-empty list")]
    found: dict[str, tuple[int, Mapping[str, Any]]] = {}
    issues: list[Issue] = []
    for i, component in enumerate(raw):
        if not isinstance(component, Mapping):
            issues.append(error(f"components[{i}]", "INVALID_COMPONENT", "must be an object"))
            continue
        kind = str(component.get("type", "")).upper()
        if kind not in COMPONENT_TYPES:
            issues.append(
                error(
                    f"components[{i}].type",
                    "INVALID_COMPONENT_TYPE",
                    f"component type is one of {', '.join(COMPONENT_TYPES)}",
                )
            )
        elif kind in found:
            issues.append(
                error(f"components[{i}].type", "DUPLICATE_COMPONENT", f"only one {kind} component")
            )
        else:
            found[kind] = (i, component)
    if not issues and "BODY" not in found:
        issues.append(
            error("components", "BODY_REQUIRED", "exactly one BODY component is required")
        )
    return found, issues


def _check_standard(
    found: Mapping[str, tuple[int, Mapping[str, Any]]], fmt: ParameterFormat, category: str
) -> list[Issue]:
    issues: list[Issue] = []
    i, body = found["BODY"]
    issues += components.check_body(body, f"components[{i}]", fmt)
    if "HEADER" in found:
        i, header = found["HEADER"]
        issues += components.check_header(header, f"components[{i}]", fmt, category)
    if "FOOTER" in found:
        i, footer = found["FOOTER"]
        issues += components.check_footer(footer, f"components[{i}]")
    if "BUTTONS" in found:
        i, group = found["BUTTONS"]
        issues += buttons.check_buttons(group, f"components[{i}]")
    return issues
