"""The state a template-language publishes: its send-time spec, its fallback languages and
the envelope of the event that caused it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.templates.records import TemplateRecord
from services.templates.rules.states import PRODUCER, fallbacks_after, state

FALLBACKS = [
    ("pt_BR", ("pt_BR", "pt", "en"), ("pt", "en")),
    ("pt", ("pt_BR", "pt", "en"), ("en",)),
    ("en", ("pt_BR", "pt", "en"), ()),
    ("es", ("pt_BR", "pt", "en"), ("pt_BR", "pt", "en")),
    ("es", (), ()),
]


@pytest.mark.parametrize(("language", "chain", "expected"), FALLBACKS)
def test_fallbacks_after(language: str, chain: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert fallbacks_after(language, chain) == expected


STORED = TemplateRecord(
    waba_id="102290129340398",
    name="shipping_update",
    language="pt_BR",
    category="UTILITY",
    parameter_format="NAMED",
    components=[
        {"type": "BODY", "text": "Oi {{first_name}}, pedido {{order}}."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.test/{{1}}"}]},
    ],
    meta_id="1001",
    status="APPROVED",
    version=3,
)


def test_the_state_carries_spec_fallbacks_and_envelope() -> None:
    published = state(STORED, ("pt_BR", "pt", "en"), event_id="e-1", correlation_id="c-1")
    assert (published.event_id, published.correlation_id) == ("e-1", "c-1")
    assert published.producer == PRODUCER
    assert published.key == str(STORED.key)
    assert (published.status, published.version, published.meta_id) == ("APPROVED", 3, "1001")
    assert published.fallback_languages == ("pt", "en")
    assert published.parameter_format == "named"
    assert published.parameters.body_names == ("first_name", "order")
    assert [(b.index, b.sub_type) for b in published.parameters.buttons] == [(0, "url")]


def test_a_format_other_than_named_is_published_as_positional() -> None:
    assert state(replace(STORED, parameter_format="POSITIONAL")).parameter_format == "positional"
    assert state(replace(STORED, parameter_format="odd")).parameter_format == "positional"
