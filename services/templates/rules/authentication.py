"""Rules for AUTHENTICATION templates: Meta's fixed one-time-passcode body, an optional expiry
footer, exactly one OTP button (copy code, one-tap, zero-tap with its apps), and no header,
URL or emoji anywhere. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.templates.rules.buttons import check_label
from services.templates.rules.issues import Issue, error

OTP_BODY = "*{{1}}* is your verification code."
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
EXPIRY_MINUTES = (1, 90)
TTL_SECONDS = (30, 900)
MAX_APPS = 5
SIGNATURE_HASH_LENGTH = 11
PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def check_authentication(components: Mapping[str, tuple[int, Mapping[str, Any]]]) -> list[Issue]:
    """`components` maps a component type to its index and value."""
    issues: list[Issue] = []
    if "HEADER" in components:
        i, _ = components["HEADER"]
        issues.append(
            error(
                f"components[{i}]",
                "HEADER_NOT_ALLOWED",
                "authentication templates have no header (no media, no text)",
            )
        )
    if "BODY" in components:
        issues += _check_body(*components["BODY"])
    if "FOOTER" in components:
        issues += _check_footer(*components["FOOTER"])
    if "BUTTONS" not in components:
        issues.append(
            error(
                "components", "OTP_BUTTON_REQUIRED", "authentication templates need an OTP button"
            )
        )
    else:
        issues += _check_buttons(*components["BUTTONS"])
    return issues


def check_ttl(ttl: object) -> list[Issue]:
    low, high = TTL_SECONDS
    if ttl is None:
        return []
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not low <= ttl <= high:
        return [
            error(
                "message_send_ttl_seconds",
                "INVALID_TTL",
                f"an authentication template's time to live is {low} to {high} seconds",
            )
        ]
    return []


def _check_body(i: int, body: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    text = body.get("text")
    if text is not None and text != OTP_BODY:
        issues.append(
            error(
                f"components[{i}].text",
                "FIXED_BODY",
                f"the body of an authentication template is Meta's preset {OTP_BODY!r};"
                " leave text out",
            )
        )
    flag = body.get("add_security_recommendation")
    if flag is not None and not isinstance(flag, bool):
        issues.append(
            error(
                f"components[{i}].add_security_recommendation",
                "INVALID_FLAG",
                "add_security_recommendation is true or false",
            )
        )
    return issues


def _check_footer(i: int, footer: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    if footer.get("text") is not None:
        issues.append(
            error(
                f"components[{i}].text",
                "FIXED_FOOTER",
                "the footer of an authentication template is generated from"
                " code_expiration_minutes; leave text out",
            )
        )
    minutes = footer.get("code_expiration_minutes")
    low, high = EXPIRY_MINUTES
    valid = isinstance(minutes, int) and not isinstance(minutes, bool) and low <= minutes <= high
    if minutes is not None and not valid:
        issues.append(
            error(
                f"components[{i}].code_expiration_minutes",
                "INVALID_EXPIRY",
                f"code_expiration_minutes is a whole number from {low} to {high}",
            )
        )
    return issues


def _check_buttons(i: int, component: Mapping[str, Any]) -> list[Issue]:
    where = f"components[{i}].buttons"
    raw = component.get("buttons")
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], Mapping):
        return [error(where, "OTP_BUTTON_REQUIRED", "exactly one OTP button is required")]
    button = raw[0]
    at = f"{where}[0]"
    if str(button.get("type", "")).upper() != "OTP":
        return [error(f"{at}.type", "OTP_BUTTON_REQUIRED", "the button must be of type OTP")]
    otp_type = str(button.get("otp_type", "")).upper()
    if otp_type not in OTP_TYPES:
        return [
            error(
                f"{at}.otp_type", "INVALID_OTP_TYPE", f"otp_type is one of {', '.join(OTP_TYPES)}"
            )
        ]
    issues = check_label(button, at, required=False)
    issues += _check_plain(button, at)
    if button.get("autofill_text") is not None:
        issues += [
            Issue(f"{at}.autofill_text", x.code, x.message)
            for x in check_label({"text": button.get("autofill_text")}, at)
        ]
    if otp_type == "COPY_CODE":
        return issues
    issues += _check_apps(button.get("supported_apps"), f"{at}.supported_apps", otp_type)
    if otp_type == "ZERO_TAP" and button.get("zero_tap_terms_accepted") is not True:
        issues.append(
            error(
                f"{at}.zero_tap_terms_accepted",
                "TERMS_NOT_ACCEPTED",
                "zero-tap buttons need zero_tap_terms_accepted: true",
            )
        )
    return issues


def _check_plain(button: Mapping[str, Any], at: str) -> list[Issue]:
    issues: list[Issue] = []
    for key in ("text", "autofill_text"):
        value = button.get(key)
        if isinstance(value, str) and LINK.search(value):
            issues.append(error(f"{at}.{key}", "URL_NOT_ALLOWED", "no URLs in authentication"))
        if isinstance(value, str) and EMOJI.search(value):
            issues.append(error(f"{at}.{key}", "EMOJI_NOT_ALLOWED", "no emoji in authentication"))
    return issues


def _check_apps(apps: object, where: str, otp_type: str) -> list[Issue]:
    if not isinstance(apps, list) or not apps:
        return [
            error(
                where,
                "APPS_REQUIRED",
                f"{otp_type} buttons need supported_apps (package_name and signature_hash)",
            )
        ]
    if len(apps) > MAX_APPS:
        return [error(where, "TOO_MANY_APPS", f"at most {MAX_APPS} apps; found {len(apps)}")]
    issues: list[Issue] = []
    for j, app in enumerate(apps):
        app = app if isinstance(app, Mapping) else {}
        package, signature = app.get("package_name"), app.get("signature_hash")
        if not isinstance(package, str) or len(package) > 224 or not PACKAGE.fullmatch(package):
            issues.append(
                error(
                    f"{where}[{j}].package_name",
                    "INVALID_PACKAGE",
                    "an Android package name such as com.example.app",
                )
            )
        if not isinstance(signature, str) or len(signature) != SIGNATURE_HASH_LENGTH:
            issues.append(
                error(
                    f"{where}[{j}].signature_hash",
                    "INVALID_SIGNATURE_HASH",
                    f"the app signature hash is exactly {SIGNATURE_HASH_LENGTH} characters",
                )
            )
    return issues
