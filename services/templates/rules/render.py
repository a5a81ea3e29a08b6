"""Preview: a template filled with sample parameters, as the customer would read it, and the
send-time `components` a message would carry (§2.1). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.templates.rules import variables
from services.templates.rules.authentication import EMOJI, LINK, OTP_BODY
from services.templates.rules.issues import Issue, error
from services.templates.rules.spec import component, parameter_spec

SECURITY_LINE = "For your security, do not share this code."
LIMITS = {"header": 60, "body": 1024, "copy_code": 15, "otp": 15, "url": 2000}


@dataclass(frozen=True)
class Rendered:
    body: str
    header: str | None = None
    header_kind: str = "none"
    footer: str | None = None
    buttons: tuple[dict[str, str], ...] = ()
    components: tuple[dict[str, Any], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "header_kind": self.header_kind,
            "body": self.body,
            "footer": self.footer,
            "buttons": list(self.buttons),
            "components": list(self.components),
        }


def render(
    category: str,
    parameter_format: str,
    components: Sequence[Mapping[str, Any]],
    sample: Mapping[str, Any],
) -> tuple[Rendered | None, list[Issue]]:
    """The filled template, or the parameters that are missing, unknown or out of bounds."""
    if category.upper() == "AUTHENTICATION":
        return _render_authentication(components, sample)
    named = parameter_format.lower() == "named"
    issues: list[Issue] = []
    header_text, header_kind, header_parts = _header(components, sample, named, issues)
    body = component(components, "BODY") or {}
    body_text, body_params = _fill(
        str(body.get("text", "")), sample.get("body"), "body", named, issues
    )
    buttons, button_parts = _buttons(components, sample.get("buttons"), issues)
    footer = component(components, "FOOTER")
    if issues:
        return None, issues
    send = [*header_parts]
    if body_params:
        send.append({"type": "body", "parameters": body_params})
    send += button_parts
    return Rendered(
        body=body_text,
        header=header_text,
        header_kind=header_kind,
        footer=str(footer["text"]) if footer and footer.get("text") else None,
        buttons=tuple(buttons),
        components=tuple(send),
    ), []


def _fill(
    text: str, given: object, part: str, named: bool, issues: list[Issue]
) -> tuple[str, list[dict[str, Any]]]:
    wanted = variables.names(text)
    values: dict[str, str] = {}
    if named and isinstance(given, Mapping):
        values = {str(k): str(v) for k, v in given.items()}
    elif not named and isinstance(given, list):
        values = {str(i + 1): str(v) for i, v in enumerate(given)}
    for name in wanted:
        where = f"parameters.{part}.{name}" if named else f"parameters.{part}[{int(name) - 1}]"
        value = values.get(name, "")
        if not value.strip():
            issues.append(
                error(where, "PARAMETER_MISSING", f"a value for {{{{{name}}}}} is needed")
            )
        elif len(value) > LIMITS[part]:
            issues.append(error(where, "TOO_LONG", f"at most {LIMITS[part]} characters"))
    for extra in sorted(set(values) - set(wanted)):
        issues.append(
            error(f"parameters.{part}", "PARAMETER_UNKNOWN", f"the template has no {{{{{extra}}}}}")
        )
    filled = variables.PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip(), m.group(0)), text)
    params = [
        {"type": "text", "text": values.get(n, ""), **({"parameter_name": n} if named else {})}
        for n in wanted
    ]
    return filled, params


def _header(
    components: Sequence[Mapping[str, Any]],
    sample: Mapping[str, Any],
    named: bool,
    issues: list[Issue],
) -> tuple[str | None, str, list[dict[str, Any]]]:
    header = component(components, "HEADER")
    if header is None:
        return None, "none", []
    kind = str(header.get("format", "TEXT")).lower()
    given = sample.get("header")
    if kind == "text":
        text, params = _fill(str(header.get("text", "")), given, "header", named, issues)
        return text, kind, [{"type": "header", "parameters": params}] if params else []
    if not isinstance(given, Mapping) or not given:
        needs = "latitude and longitude" if kind == "location" else "a link or a media id"
        issues.append(
            error("parameters.header", "PARAMETER_MISSING", f"a {kind} header needs {needs}")
        )
        return None, kind, []
    value = {str(k): v for k, v in given.items()}
    shown = f"[{kind}: {value.get('link') or value.get('id') or value.get('name') or ''}]"
    return shown, kind, [{"type": "header", "parameters": [{"type": kind, kind: value}]}]


def _buttons(
    components: Sequence[Mapping[str, Any]], given: object, issues: list[Issue]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    group = component(components, "BUTTONS")
    values = {str(k): str(v) for k, v in given.items()} if isinstance(given, Mapping) else {}
    shown: list[dict[str, str]] = []
    send: list[dict[str, Any]] = []
    for i, button in enumerate((group or {}).get("buttons") or []):
        kind = str(button.get("type", "")).upper()
        label = str(button.get("text", "Copy offer code" if kind == "COPY_CODE" else ""))
        item = {"type": kind, "text": label}
        needs = parameter_spec(
            "MARKETING", "positional", [{"type": "BUTTONS", "buttons": [button]}]
        )
        if needs.buttons:
            sub = needs.buttons[0].sub_type
            value = values.get(str(i), "")
            if not value.strip():
                issues.append(
                    error(
                        f"parameters.buttons.{i}",
                        "PARAMETER_MISSING",
                        f"{kind} button needs a value",
                    )
                )
            elif len(value) > LIMITS.get(sub, 2000):
                issues.append(error(f"parameters.buttons.{i}", "TOO_LONG", "value too long"))
            param = (
                {"type": "coupon_code", "coupon_code": value}
                if sub == "copy_code"
                else {"type": "text", "text": value}
            )
            send.append({"type": "button", "sub_type": sub, "index": i, "parameters": [param]})
            if sub == "url":
                item["url"] = str(button.get("url", "")).replace("{{1}}", value)
        elif kind == "URL":
            item["url"] = str(button.get("url", ""))
        shown.append(item)
    return shown, send


def _render_authentication(
    components: Sequence[Mapping[str, Any]], sample: Mapping[str, Any]
) -> tuple[Rendered | None, list[Issue]]:
    given = sample.get("body")
    code = str(given[0]) if isinstance(given, list) and given else ""
    where = "parameters.body[0]"
    if not code.strip():
        return None, [error(where, "PARAMETER_MISSING", "the one-time code is needed")]
    if len(code) > LIMITS["otp"] or LINK.search(code) or EMOJI.search(code):
        return None, [error(where, "INVALID_CODE", "at most 15 characters, no URL or emoji")]
    body = component(components, "BODY") or {}
    text = OTP_BODY.replace("{{1}}", code)
    if body.get("add_security_recommendation"):
        text += f" {SECURITY_LINE}"
    footer = component(components, "FOOTER") or {}
    minutes = footer.get("code_expiration_minutes")
    group = component(components, "BUTTONS") or {}
    first: Mapping[str, Any] = next(iter(group.get("buttons") or []), {})
    label = first.get("text") or "Copy code"
    return Rendered(
        body=text,
        footer=f"This code expires in {minutes} minutes." if minutes else None,
        buttons=({"type": "OTP", "text": str(label)},),
        components=(
            {"type": "body", "parameters": [{"type": "text", "text": code}]},
            {
                "type": "button",
                "sub_type": "url",
                "index": 0,
                "parameters": [{"type": "text", "text": code}],
            },
        ),
    ), []
