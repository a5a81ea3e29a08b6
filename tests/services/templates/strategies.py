"""Hypothesis strategies for hostile input: any JSON, template-shaped JSON, and valid templates
with a few values replaced by any JSON."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.services.templates.builders import (
    APP,
    auth,
    body,
    buttons,
    copy_code,
    footer,
    header_text,
    media_header,
    named_body,
    otp_button,
    phone,
    quick,
    template,
    url,
)
from tests.shared.hostile import paths, replaced

BODY_AUTH = {"type": "BODY"}

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=30)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "type",
        "format",
        "text",
        "example",
        "buttons",
        "url",
        "otp_type",
        "supported_apps",
        "phone_number",
        "code_expiration_minutes",
        "add_security_recommendation",
        "header_text",
        "body_text",
        "body_text_named_params",
        "header_handle",
        "param_name",
    ]
)
COMPONENT = st.dictionaries(
    KEYS,
    JSON | st.sampled_from(["BODY", "HEADER", "BUTTONS", "FOOTER", "TEXT", "OTP", "URL"]),
    max_size=6,
)
TEMPLATE = st.fixed_dictionaries(
    {
        "name": JSON,
        "language": JSON,
        "category": st.sampled_from(["UTILITY", "MARKETING", "AUTHENTICATION"]) | JSON,
        "parameter_format": st.sampled_from(["named", "positional"]) | JSON,
        "components": st.lists(COMPONENT | JSON, max_size=5) | JSON,
    }
)
VALID = [
    template(header_text(), body(), footer(), buttons(quick(), url(), phone(), copy_code())),
    template(media_header("IMAGE"), body()),
    template(
        named_body("Hi {{first_name}}, your order is here.", first_name="a"),
        parameter_format="named",
    ),
    auth(),
    auth(
        BODY_AUTH,
        buttons(otp_button("ZERO_TAP", supported_apps=[APP], zero_tap_terms_accepted=True)),
    ),
]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    tpl: Any = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(tpl)[1:]))
        tpl = replaced(tpl, path, draw(JSON))
    return tpl
