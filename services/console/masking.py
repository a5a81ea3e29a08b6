"""Pure masking of what the console stores and shows: sealed values never kept, one-time
codes and marked parameters redacted, customers' phone numbers masked for roles that may
not see them."""

from __future__ import annotations

import re
from typing import Any

from shared.logs import mask_phone
from shared.sealing import REDACTED, VALUE_KEYS

SEALED_KEYS = frozenset({"sealed"})
# components whose parameters may carry a one-time code (an AUTHENTICATION template's body
# and buttons): redacted whenever the console cannot know the template's category
CODE_COMPONENTS = frozenset({"body", "button"})
PHONE_KEYS = frozenset({"to", "wa_id", "recipient_id", "customer", "from", "recipient"})
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def scrub(value: Any, *, unknown_category: bool) -> Any:
    """A copy of a JSON value with every `sealed` field dropped and sensitive parameters
    redacted: those marked `"sensitive": true`, and, when `unknown_category`, every body and
    button parameter of a template (policy knows the category and redacts exactly; a record
    policy never saw may hold a one-time code in clear)."""
    if isinstance(value, list):
        return [scrub(item, unknown_category=unknown_category) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    kind = str(value.get("type", "")).lower()
    for key, item in value.items():
        if key in SEALED_KEYS:
            continue
        if key == "parameters" and isinstance(item, list):
            code_bearing = unknown_category and kind in CODE_COMPONENTS
            out[key] = [_parameter(p, code_bearing, unknown_category) for p in item]
        else:
            out[key] = scrub(item, unknown_category=unknown_category)
    return out


def _parameter(param: Any, code_bearing: bool, unknown_category: bool) -> Any:
    if not isinstance(param, dict):
        return param
    if code_bearing or param.get("sensitive") is True:
        return {k: (REDACTED if k in VALUE_KEYS else v) for k, v in param.items()}
    return scrub(param, unknown_category=unknown_category)


def phone(value: str | None, allowed: bool) -> str:
    """A customer's number as a role may see it (`16***34` unless allowed); a BSUID is no
    phone number and shows as it is."""
    if value is None:
        return ""
    if allowed or not looks_like_phone(value):
        return value
    return mask_phone(value)


def looks_like_phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    return digits >= 6 and not any(c.isalpha() for c in value)


def key(value: str | None, allowed: bool) -> str:
    """A record key (`phone_number_id:wa_id`) with its customer part masked."""
    if value is None:
        return ""
    head, sep, tail = value.rpartition(":")
    return f"{head}{sep}{phone(tail, allowed)}" if sep else phone(value, allowed)


def phones_in(value: Any, allowed: bool) -> Any:
    """A copy of a JSON value with the customer fields (`to`, `wa_id`, ...) masked."""
    if allowed:
        return value
    if isinstance(value, list):
        return [phones_in(item, allowed) for item in value]
    if isinstance(value, dict):
        return {
            k: phone(v, allowed)
            if k in PHONE_KEYS and isinstance(v, str)
            else phones_in(v, allowed)
            for k, v in value.items()
        }
    return value


def phones_in_text(text: str, allowed: bool) -> str:
    """Free text (a payload that is not JSON) with every run of digits that may be a phone
    number masked."""
    if allowed:
        return text
    return _DIGIT_RUN.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))), text)
