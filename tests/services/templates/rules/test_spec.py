"""The send-time parameter spec of a template: which header, body and button values a send
must carry."""

from __future__ import annotations

from typing import Any

import pytest

from services.templates.rules.spec import parameter_spec
from shared.events.template_states import ButtonParameter, ParameterSpec
from tests.services.templates.builders import (
    NAMED,
    auth,
    body,
    buttons,
    copy_code,
    header_text,
    media_header,
    quick,
    template,
    url,
)

SPECS: list[tuple[str, dict[str, Any], ParameterSpec]] = [
    ("static", template(body("Your order has shipped.")), ParameterSpec()),
    ("positional body", template(body()), ParameterSpec(body_count=2)),
    (
        "text header, url and quick reply",
        template(header_text(), body(), buttons(quick(), url())),
        ParameterSpec(
            header_kind="text",
            header_count=1,
            body_count=2,
            buttons=(ButtonParameter(index=1, sub_type="url"),),
        ),
    ),
    (
        "named with document header",
        template(media_header("DOCUMENT"), NAMED, parameter_format="named"),
        ParameterSpec(
            parameter_format="named",
            header_kind="document",
            body_names=("first_name", "order_number"),
        ),
    ),
    (
        "copy code and static url",
        template(body(), buttons(url("https://example.com/help"), copy_code())),
        ParameterSpec(body_count=2, buttons=(ButtonParameter(index=1, sub_type="copy_code"),)),
    ),
    (
        "authentication",
        auth(),
        ParameterSpec(body_count=1, buttons=(ButtonParameter(index=0, sub_type="url"),)),
    ),
    (
        "location",
        template(media_header("LOCATION", None), body()),
        ParameterSpec(header_kind="location", body_count=2),
    ),
]


@pytest.mark.parametrize(("case", "tpl", "expected"), SPECS, ids=[s[0] for s in SPECS])
def test_parameter_spec(case: str, tpl: dict[str, Any], expected: ParameterSpec) -> None:
    fmt = tpl.get("parameter_format", "positional")
    assert parameter_spec(tpl["category"], fmt, tpl["components"]) == expected
