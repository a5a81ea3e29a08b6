"""Hostile input never crashes the checks or the preview: every answer is a verdict."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.templates.rules.render import render
from services.templates.rules.spec import parameter_spec
from services.templates.rules.validation import check
from tests.services.templates.builders import auth, body, buttons, header_text, quick, template, url
from tests.services.templates.strategies import COMPONENT, JSON, TEMPLATE, mutated

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEMPLATE | mutated())
def test_check_answers_any_json(tpl: dict[str, Any]) -> None:
    verdict = check(tpl)
    assert all(e.field and e.code and e.message for e in verdict.errors + verdict.warnings)


@FAST
@given(
    st.sampled_from(
        [
            template(header_text(), body(), buttons(quick(), url())),
            auth(),
            template(body(), parameter_format="named"),
        ]
    ),
    JSON,
)
def test_render_answers_any_sample(tpl: dict[str, Any], sample: Any) -> None:
    fmt = tpl.get("parameter_format", "positional")
    rendered, issues = render(
        tpl["category"],
        fmt,
        tpl["components"],
        sample
        if isinstance(sample, dict)
        else {"body": sample, "header": sample, "buttons": sample},
    )
    assert (rendered is None) == bool(issues)


@FAST
@given(st.lists(COMPONENT, max_size=4))
def test_spec_of_any_stored_components(components: list[dict[str, Any]]) -> None:
    spec = parameter_spec("UTILITY", "positional", components)
    assert spec.body_count >= 0
