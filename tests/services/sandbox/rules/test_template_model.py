"""Templates as the sandbox stores them: their variables, header format, buttons, and the shape
the management API returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.sandbox.rules.template_model import Template, button_needs_parameter, variables

T0 = datetime(2025, 6, 8, tzinfo=UTC)


def _template(*components: dict[str, Any], category: str = "UTILITY", **fields: Any) -> Template:
    return Template("1", "order_update", "en_US", category, components, T0, **fields)


def test_variables_in_order_without_braces_or_blanks() -> None:
    assert variables("Hi {{1}}, order {{ 2 }} ships {{name}}.") == ["1", "2", "name"]
    assert variables("No variables.") == []


def test_a_text_header_has_variables_and_a_media_header_none() -> None:
    text = _template({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"})
    image = _template({"type": "header", "format": "image"})

    assert (text.header_format, text.header_variables()) == ("TEXT", ["1"])
    assert (image.header_format, image.header_variables()) == ("IMAGE", [])
    assert _template({"type": "BODY", "text": "Hi"}).header_format is None


def test_an_authentication_body_has_one_code_variable() -> None:
    body = {"type": "BODY", "text": "{{1}} is your code. {{2}}"}

    assert _template(body).body_variables() == ["1", "2"]
    assert _template(body, category="AUTHENTICATION").body_variables() == ["1"]
    assert _template().body_variables() == []


@pytest.mark.parametrize(
    ("button", "sub_type"),
    [
        ({"type": "URL", "url": "https://shop.example/track/{{1}}"}, "url"),
        ({"type": "URL", "url": "https://shop.example/help"}, None),
        ({"type": "OTP"}, "url"),
        ({"type": "copy_code"}, "copy_code"),
        ({"type": "FLOW"}, "flow"),
        ({"type": "QUICK_REPLY", "text": "Stop"}, None),
        ({"type": "PHONE_NUMBER", "phone_number": "+15550001111"}, None),
    ],
)
def test_which_buttons_need_a_value_at_send_time(
    button: dict[str, Any], sub_type: str | None
) -> None:
    assert button_needs_parameter(button) == sub_type


def test_buttons_skip_what_is_not_an_object() -> None:
    group = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY"}, "junk"]}

    assert _template(group).buttons() == [{"type": "QUICK_REPLY"}]
    assert _template({"type": "BUTTONS", "buttons": "junk"}).buttons() == []


def test_the_api_shape_shows_pacing_and_a_rejection_only_when_they_apply() -> None:
    body = {"type": "BODY", "text": "Hi"}
    shown = _template(body).to_api()

    assert shown == {
        "id": "1",
        "name": "order_update",
        "language": "en_US",
        "status": "PENDING",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [body],
        "quality_score": {"score": "UNKNOWN"},
    }
    rejected = _template(body, status="REJECTED", reason="INVALID_FORMAT", paced=True).to_api()
    assert (rejected["rejected_reason"], rejected["paced"]) == ("INVALID_FORMAT", True)
