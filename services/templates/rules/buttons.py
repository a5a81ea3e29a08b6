"""Rules for the BUTTONS component of non-authentication templates: kinds, counts, order,
labels, URLs with one trailing variable, phone numbers, copy codes. Pure."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from services.templates.rules import variables
from services.templates.rules.issues import Issue, error

LABEL_MAX = 25
URL_MAX = 2000
PHONE_MAX = 20
COPY_CODE_MAX = 15
MAX_BUTTONS = 10
MAX_PER_KIND = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}
PHONE = re.compile(r"\+?[0-9]{4,19}")
URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def check_buttons(component: Mapping[str, Any], field: str) -> list[Issue]:
    raw = component.get("buttons")
    where = f"{field}.buttons"
    if not isinstance(raw, list) or not raw:
        return [error(where, "BUTTONS_REQUIRED", "a BUTTONS component needs at least one button")]
    if len(raw) > MAX_BUTTONS:
        return [
            error(where, "TOO_MANY_BUTTONS", f"at most {MAX_BUTTONS} buttons; found {len(raw)}")
        ]
    issues: list[Issue] = []
    kinds: list[str] = []
    for i, button in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(button, Mapping):
            issues.append(error(at, "INVALID_BUTTON", "a button must be an object"))
            continue
        kind = str(button.get("type", "")).upper()
        kinds.append(kind)
        issues += check_button(button, kind, at)
    issues += _check_counts(kinds, where)
    issues += _check_grouping(kinds, where)
    return issues


def check_button(button: Mapping[str, Any], kind: str, at: str) -> list[Issue]:
    if kind == "QUICK_REPLY":
        return check_label(button, at)
    if kind == "URL":
        return check_label(button, at) + _check_url(button, at)
    if kind == "PHONE_NUMBER":
        return check_label(button, at) + _check_phone(button, at)
    if kind == "COPY_CODE":
        return _check_copy_code(button, at)
    if kind == "OTP":
        return [
            error(f"{at}.type", "OTP_BUTTON_NOT_ALLOWED", "OTP buttons are for AUTHENTICATION only")
        ]
    return [
        error(
            f"{at}.type",
            "INVALID_BUTTON_TYPE",
            f"button type must be one of {', '.join(MAX_PER_KIND)}; got {kind or 'none'}",
        )
    ]


def check_label(button: Mapping[str, Any], at: str, required: bool = True) -> list[Issue]:
    label = button.get("text")
    if label is None and not required:
        return []
    if not isinstance(label, str) or not label.strip():
        return [error(f"{at}.text", "LABEL_REQUIRED", "the button needs a label")]
    if len(label) > LABEL_MAX:
        return [
            error(
                f"{at}.text",
                "TOO_LONG",
                f"the label has {len(label)} characters; at most {LABEL_MAX}",
            )
        ]
    if variables.placeholders(label) or "\n" in label:
        return [error(f"{at}.text", "INVALID_LABEL", "a label allows no variables or line breaks")]
    return []


def _check_url(button: Mapping[str, Any], at: str) -> list[Issue]:
    url = button.get("url")
    where = f"{at}.url"
    if not isinstance(url, str) or not url:
        return [error(where, "URL_REQUIRED", "a URL button needs a url")]
    if len(url) > URL_MAX:
        return [error(where, "TOO_LONG", f"the URL has {len(url)} characters; at most {URL_MAX}")]
    if not URL.fullmatch(url):
        return [error(where, "INVALID_URL", "the URL must be an http(s) address")]
    found = variables.placeholders(url)
    if not found:
        return []
    if len(found) > 1:
        return [error(where, "TOO_MANY_VARIABLES", "a URL allows one variable, at its end")]
    if found[0].end != len(url):
        return [error(where, "VARIABLE_NOT_AT_END", "the URL's variable must be at its very end")]
    if found[0].inner != "1":
        return [error(where, "INVALID_VARIABLE", "the URL's variable must be written {{1}}")]
    if "://" not in url[: found[0].start] or "/" not in url[: found[0].start].split("://", 1)[1]:
        return [error(where, "VARIABLE_IN_DOMAIN", "the variable cannot be part of the domain")]
    sample = button.get("example")
    if not (isinstance(sample, list) and len(sample) == 1 and variables.filled(sample[0])):
        return [
            error(
                f"{at}.example",
                "EXAMPLE_REQUIRED",
                "a URL with a variable needs one sample value in example",
            )
        ]
    return []


def _check_phone(button: Mapping[str, Any], at: str) -> list[Issue]:
    number = button.get("phone_number")
    where = f"{at}.phone_number"
    if not isinstance(number, str) or not number:
        return [error(where, "PHONE_REQUIRED", "a PHONE_NUMBER button needs a phone_number")]
    if len(number) > PHONE_MAX:
        return [error(where, "TOO_LONG", f"at most {PHONE_MAX} characters")]
    if not PHONE.fullmatch(number):
        return [error(where, "INVALID_PHONE", "digits with an optional leading '+'")]
    return []


def _check_copy_code(button: Mapping[str, Any], at: str) -> list[Issue]:
    sample = button.get("example")
    if isinstance(sample, list) and len(sample) == 1:
        sample = sample[0]
    where = f"{at}.example"
    if not variables.filled(sample):
        return [error(where, "EXAMPLE_REQUIRED", "a COPY_CODE button needs a sample code")]
    assert isinstance(sample, str)
    if len(sample) > COPY_CODE_MAX:
        return [error(where, "TOO_LONG", f"the code has {len(sample)} characters; at most 15")]
    return []


def _check_counts(kinds: Sequence[str], where: str) -> list[Issue]:
    counts = Counter(kinds)
    return [
        error(
            where,
            "TOO_MANY_BUTTONS",
            f"at most {limit} {kind} button(s); found {counts[kind]}",
        )
        for kind, limit in MAX_PER_KIND.items()
        if counts[kind] > limit
    ]


def _check_grouping(kinds: Sequence[str], where: str) -> list[Issue]:
    """Quick replies must sit together (QR, QR, URL is fine; QR, URL, QR is not)."""
    runs = [k for i, k in enumerate(kinds) if k == "QUICK_REPLY" and (i == 0 or kinds[i - 1] != k)]
    if len(runs) > 1:
        return [
            error(
                where,
                "QUICK_REPLIES_NOT_GROUPED",
                "quick-reply buttons must be next to each other, before or after the others",
            )
        ]
    return []
