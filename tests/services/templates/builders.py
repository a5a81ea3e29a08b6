"""Template bodies in Meta's creation shape, for tests."""

from __future__ import annotations

from typing import Any


def body(text: str = "Hello {{1}}, your order {{2}} has shipped.", *samples: str) -> dict[str, Any]:
    values = list(samples) or ["Ana", "A-42"][: text.count("{{")]
    component: dict[str, Any] = {"type": "BODY", "text": text}
    if "{{" in text:
        component["example"] = {"body_text": [values]}
    return component


def named_body(text: str, **samples: str) -> dict[str, Any]:
    return {
        "type": "BODY",
        "text": text,
        "example": {
            "body_text_named_params": [{"param_name": k, "example": v} for k, v in samples.items()]
        },
    }


def header_text(text: str = "Order {{1}}", sample: str | None = "A-42") -> dict[str, Any]:
    component: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": text}
    if sample is not None:
        component["example"] = {"header_text": [sample]}
    return component


def media_header(kind: str = "IMAGE", handle: str | None = "4::aW1hZ2U=") -> dict[str, Any]:
    component: dict[str, Any] = {"type": "HEADER", "format": kind}
    if handle is not None:
        component["example"] = {"header_handle": [handle]}
    return component


def footer(text: str = "Lucky Shrub") -> dict[str, Any]:
    return {"type": "FOOTER", "text": text}


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(items)}


def quick(label: str = "Stop updates") -> dict[str, Any]:
    return {"type": "QUICK_REPLY", "text": label}


def url(address: str = "https://example.com/track/{{1}}", sample: str = "A-42") -> dict[str, Any]:
    button: dict[str, Any] = {"type": "URL", "text": "Track order", "url": address}
    if "{{" in address:
        button["example"] = [sample]
    return button


def phone(number: str = "+16505551234") -> dict[str, Any]:
    return {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": number}


def copy_code(sample: str = "SAVE25") -> dict[str, Any]:
    return {"type": "COPY_CODE", "example": sample}


def template(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": list(components) or [body()],
        **fields,
    }


def otp_button(otp_type: str = "COPY_CODE", **fields: Any) -> dict[str, Any]:
    return {"type": "OTP", "otp_type": otp_type, **fields}


APP = {"package_name": "com.example.app", "signature_hash": "K8a/AINcGX7"}


def auth(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return template(
        *(
            components
            or (
                {"type": "BODY", "add_security_recommendation": True},
                {"type": "FOOTER", "code_expiration_minutes": 10},
                buttons(otp_button()),
            )
        ),
        name="login_code",
        category="AUTHENTICATION",
        **fields,
    )


# Valid named bodies with a sample for each variable.
NAMED = named_body(
    "Hi {{first_name}}, order {{order_number}} is ready.", first_name="a", order_number="b"
)
NAMED_OK = named_body(
    "Thank you, {{first_name}}! Your order {{order_number}} is confirmed.",
    first_name="Pablo",
    order_number="860198",
)
