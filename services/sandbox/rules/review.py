"""Deterministic template review: the outcome Meta's review would reach, from the content alone
(§2.2 review rules, §2.4 categories)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.sandbox.rules.template_model import NAMED, POSITIONAL, Template, variables

PROMOTIONAL = re.compile(
    r"\b(sale|discount|offer|deal|coupon|promo(tion)?|% off|free shipping|buy now|shop now|"
    r"limited time|special price|save \d+|black friday|upgrade now)\b",
    re.IGNORECASE,
)
ABUSIVE = re.compile(r"\b(idiot|stupid|scam|kill)\b", re.IGNORECASE)
ONE_TIME_CODE = re.compile(r"\b(verification code|one[- ]time (pass)?code|otp|passcode)\b", re.I)


@dataclass(frozen=True)
class Review:
    status: str
    category: str
    reason: str = "NONE"
    recommendation: str | None = None


def review(template: Template) -> Review:
    """APPROVED (possibly re-categorised) or REJECTED with Meta's reason."""
    text = content(template)
    if ABUSIVE.search(text):
        return Review("REJECTED", template.category, "ABUSIVE_CONTENT")
    malformed = malformed_variables(template)
    if malformed is not None:
        return Review("REJECTED", template.category, "INVALID_FORMAT", malformed)
    if template.category != "AUTHENTICATION" and ONE_TIME_CODE.search(text):
        return Review(
            "REJECTED",
            template.category,
            "INCORRECT_CATEGORY",
            "One-time passcodes may only be sent with AUTHENTICATION templates.",
        )
    if template.category == "UTILITY" and PROMOTIONAL.search(text):
        return Review("APPROVED", "MARKETING")
    return Review("APPROVED", template.category)


def content(template: Template) -> str:
    parts = [str(c.get("text", "")) for c in template.components]
    parts += [str(b.get("text", "")) for b in template.buttons()]
    return "\n".join(parts)


def malformed_variables(template: Template) -> str | None:
    """Why the placeholders are malformed, or None: wrong syntax, gaps, adjacency, duplicates."""
    for component in template.components:
        text = str(component.get("text", ""))
        if "{{" not in text and "}}" not in text:
            continue
        if text.count("{{") != text.count("}}") or re.search(r"\}\}\s*\{\{", text):
            return "Variables must be well-formed and separated by text."
        found = variables(text)
        if template.parameter_format == "named":
            if not all(NAMED.fullmatch(v) for v in found) or len(set(found)) != len(found):
                return "Named variables use lowercase letters and underscores, each once."
        elif not all(POSITIONAL.fullmatch(v) for v in found):
            return "Variables may not contain special characters such as #, $ or %."
        elif [int(v) for v in found] != list(range(1, len(found) + 1)):
            return "Variables must be numbered sequentially from {{1}}."
    return None
