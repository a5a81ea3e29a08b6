"""Category guidance: Meta approves promotional UTILITY templates as MARKETING (priced as
such), and only AUTHENTICATION templates may carry one-time codes. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from services.templates.rules.issues import Issue, error, warning

# Offers, discounts, coupons, sales and upsell, in English, Spanish and Portuguese.
PROMOTIONAL = re.compile(
    r"\b(offers?|discounts?|coupons?|promo(tion|tional)?s?|promo codes?|sales?|deals?|"
    r"\d+\s?% off|free shipping|buy now|shop now|limited[- ]time|exclusive|upgrade|"
    r"special price|save \d+|bonus|voucher|ofertas?|descuentos?|cup[oó]n(es)?|rebajas?|"
    r"promoci[oó]n(es)?|promo[cç][aã]o|promo[cç][oõ]es|descontos?|cupo(m|ns)|"
    r"compre j[aá]|compra ya|gr[aá]tis|gratis)\b",
    re.IGNORECASE,
)
ONE_TIME_CODE = re.compile(
    r"\b(one[- ]time (pass(word|code)|code)|otp|passcode|verification code|"
    r"security code|login code|c[oó]digo de (verificaci[oó]n|verifica[cç][aã]o|seguran[cç]a|"
    r"acceso|acesso)|contrase[nñ]a de un solo uso|senha de uso [uú]nico)\b",
    re.IGNORECASE,
)


def advise(template: Mapping[str, Any]) -> list[Issue]:
    category = str(template.get("category", "")).upper()
    if category == "AUTHENTICATION":
        return []
    issues: list[Issue] = []
    for field, text in texts(template):
        if ONE_TIME_CODE.search(text):
            issues.append(
                error(
                    field,
                    "ONE_TIME_CODE_OUTSIDE_AUTHENTICATION",
                    "one-time codes may be sent only in AUTHENTICATION templates",
                )
            )
        elif category == "UTILITY" and (match := PROMOTIONAL.search(text)):
            issues.append(
                warning(
                    field,
                    "PROMOTIONAL_UTILITY",
                    f"promotional wording ({match.group(0)!r}): Meta will approve this UTILITY"
                    " template as MARKETING and charge marketing prices",
                )
            )
    if category == "UTILITY":
        issues += _coupon_buttons(template)
    return issues


def texts(template: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every author-written text of the template with its field path."""
    components = template.get("components")
    if not isinstance(components, list):
        return
    for i, component in enumerate(components):
        if not isinstance(component, Mapping):
            continue
        if isinstance(component.get("text"), str):
            yield f"components[{i}].text", component["text"]
        raw = component.get("buttons")
        for j, button in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(button, Mapping) and isinstance(button.get("text"), str):
                yield f"components[{i}].buttons[{j}].text", button["text"]


def _coupon_buttons(template: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    for i, component in enumerate(template.get("components") or []):
        raw = component.get("buttons") if isinstance(component, Mapping) else None
        for j, button in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(button, Mapping) and str(button.get("type", "")).upper() == "COPY_CODE":
                issues.append(
                    warning(
                        f"components[{i}].buttons[{j}]",
                        "PROMOTIONAL_UTILITY",
                        "a coupon code button is promotional: Meta will approve this UTILITY"
                        " template as MARKETING",
                    )
                )
    return issues
