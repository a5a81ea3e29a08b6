"""Rules for the HEADER, BODY and FOOTER components of non-authentication templates, and the
examples Meta requires for every variable. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.templates.rules import variables
from services.templates.rules.issues import Issue, error
from services.templates.rules.variables import ParameterFormat

BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
MARKDOWN = ("*", "~", "`")


def text_of(component: Mapping[str, Any], field: str) -> tuple[str | None, list[Issue]]:
    """The component's `text`, or an error when it is missing or not a non-empty string."""
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, [error(f"{field}.text", "TEXT_REQUIRED", "text is required")]
    return text, []


def _bounded_text(
    component: Mapping[str, Any], field: str, limit: int, what: str
) -> tuple[str | None, list[Issue]]:
    """The component's text as `text_of` finds it, with an error when it is over `limit`."""
    text, issues = text_of(component, field)
    if text is not None and len(text) > limit:
        issues.append(
            error(
                f"{field}.text",
                "TOO_LONG",
                f"{what} has {len(text)} characters; at most {limit}",
            )
        )
    return text, issues


def check_body(body: Mapping[str, Any], field: str, fmt: ParameterFormat) -> list[Issue]:
    text, issues = _bounded_text(body, field, BODY_MAX, "the body")
    if text is None:
        return issues
    where = f"{field}.text"
    syntax = variables.check_syntax(text, where, fmt)
    issues += syntax
    if syntax:
        return issues
    issues += variables.check_sequence(text, where)
    issues += variables.check_placement(text, where)
    issues += check_examples(body, field, "body", fmt, variables.names(text))
    return issues


def check_header(
    header: Mapping[str, Any], field: str, fmt: ParameterFormat, category: str
) -> list[Issue]:
    kind = str(header.get("format", "")).upper()
    if kind not in HEADER_FORMATS:
        hint = " (GIF headers exist only in the Marketing Messages API)" if kind == "GIF" else ""
        return [
            error(
                f"{field}.format",
                "INVALID_HEADER_FORMAT",
                f"header format must be one of {', '.join(HEADER_FORMATS)}{hint}",
            )
        ]
    if kind == "TEXT":
        return _check_text_header(header, field, fmt)
    if kind == "LOCATION":
        if category not in ("UTILITY", "MARKETING"):
            return [
                error(
                    f"{field}.format",
                    "LOCATION_HEADER_NOT_ALLOWED",
                    "location headers are for UTILITY and MARKETING templates only",
                )
            ]
        return []
    handles = example_of(header).get("header_handle")
    if example_of(header).get("header_sample") is not None:
        return []  # a sample file, checked and uploaded for its handle (header_samples)
    if not (isinstance(handles, list) and len(handles) == 1 and variables.filled(handles[0])):
        return [
            error(
                f"{field}.example.header_handle",
                "EXAMPLE_REQUIRED",
                f"a {kind.lower()} header needs one sample media handle in example.header_handle",
            )
        ]
    return []


def _check_text_header(header: Mapping[str, Any], field: str, fmt: ParameterFormat) -> list[Issue]:
    text, issues = _bounded_text(header, field, HEADER_TEXT_MAX, "header text")
    if text is None:
        return issues
    where = f"{field}.text"
    if "\n" in text or any(mark in variables.PLACEHOLDER.sub("", text) for mark in MARKDOWN):
        issues.append(
            error(where, "FORMATTING_NOT_ALLOWED", "header text allows no line breaks or markdown")
        )
    syntax = variables.check_syntax(text, where, fmt)
    issues += syntax
    if syntax:
        return issues
    found = variables.names(text)
    if len(variables.placeholders(text)) > 1:
        return [
            *issues,
            error(where, "TOO_MANY_VARIABLES", "header text allows at most one variable"),
        ]
    if found and fmt == "positional" and found != ["1"]:
        issues.append(error(where, "VARIABLES_NOT_SEQUENTIAL", "the header variable must be {{1}}"))
    issues += check_examples(header, field, "header", fmt, found)
    return issues


def check_footer(footer: Mapping[str, Any], field: str) -> list[Issue]:
    text, issues = _bounded_text(footer, field, FOOTER_MAX, "the footer")
    if text is None:
        return issues
    if variables.placeholders(text):
        issues.append(
            error(f"{field}.text", "VARIABLES_NOT_ALLOWED", "a footer cannot contain variables")
        )
    return issues


def check_examples(
    component: Mapping[str, Any], field: str, part: str, fmt: ParameterFormat, found: list[str]
) -> list[Issue]:
    """Every variable has a sample value, and there are no samples for absent variables."""
    if not found:
        return []
    example = example_of(component)
    if fmt == "named":
        return _check_named_examples(example, f"{field}.example.{part}_text_named_params", found)
    where = f"{field}.example.{part}_text"
    values = example.get(f"{part}_text")
    if part == "body" and isinstance(values, list) and len(values) == 1:
        values = values[0]  # the body's samples are a list of one list
    if not isinstance(values, list) or len(values) != len(found):
        return [
            error(
                where,
                "EXAMPLE_REQUIRED",
                f"{len(found)} sample value(s) are required, one per variable"
                + (" (a list of one list)" if part == "body" else ""),
            )
        ]
    if not all(variables.filled(v) for v in values):
        return [error(where, "EXAMPLE_REQUIRED", "every sample value must be non-empty text")]
    return []


def _check_named_examples(example: Mapping[str, Any], where: str, found: list[str]) -> list[Issue]:
    params = example.get(where.rsplit(".", 1)[1])
    given: dict[str, Any] = {}
    if isinstance(params, list):
        for p in params:
            if isinstance(p, Mapping) and isinstance(p.get("param_name"), str):
                given[p["param_name"]] = p.get("example")
    missing = [n for n in found if not variables.filled(given.get(n))]
    extra = sorted(set(given) - set(found))
    issues: list[Issue] = []
    if missing:
        issues.append(error(where, "EXAMPLE_REQUIRED", f"no sample value for {', '.join(missing)}"))
    if extra:
        issues.append(
            error(
                where, "UNKNOWN_EXAMPLE", f"sample values for absent variables: {', '.join(extra)}"
            )
        )
    return issues


def example_of(component: Mapping[str, Any]) -> Mapping[str, Any]:
    example = component.get("example")
    return example if isinstance(example, Mapping) else {}
