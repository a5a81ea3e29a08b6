"""The registry's values: a stored template-language, its creation request, its API shape and
its published state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.templates.records import PRODUCER, Key, TemplateRecord, fallbacks_after

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


def test_the_key_names_waba_name_and_language() -> None:
    assert STORED.key == Key("102290129340398", "shipping_update", "pt_BR")
    assert str(STORED.key) == "102290129340398:shipping_update:pt_BR"


def test_the_creation_request_is_metas_body() -> None:
    assert STORED.creation_request() == {
        "name": "shipping_update",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "named",
        "components": STORED.components,
    }
    with_ttl = replace(STORED, message_send_ttl_seconds=600)
    assert with_ttl.creation_request()["message_send_ttl_seconds"] == 600


def test_the_api_shape_writes_times_as_iso_and_formats_in_lower_case() -> None:
    assert STORED.as_api()["parameter_format"] == "named"
    assert STORED.as_api()["created_at"] is None
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    shown = replace(STORED, created_at=at, updated_at=at).as_api()
    assert shown["created_at"] == shown["updated_at"] == "2026-11-25T12:00:00+00:00"
    assert set(shown) == {*STORED.creation_request(), *API_ONLY}


API_ONLY = (
    "waba_id",
    "message_send_ttl_seconds",
    "meta_id",
    "status",
    "quality",
    "rejected_reason",
    "correct_category",
    "warnings",
    "last_error",
    "version",
    "created_at",
    "updated_at",
)


def test_the_state_carries_spec_fallbacks_and_envelope() -> None:
    state = STORED.state(("pt_BR", "pt", "en"), event_id="e-1", correlation_id="c-1")
    assert (state.event_id, state.correlation_id, state.producer) == ("e-1", "c-1", PRODUCER)
    assert state.key == str(STORED.key)
    assert (state.status, state.version, state.meta_id) == ("APPROVED", 3, "1001")
    assert state.fallback_languages == ("pt", "en")
    assert state.parameter_format == "named"
    assert state.parameters.body_names == ("first_name", "order")
    assert [(b.index, b.sub_type) for b in state.parameters.buttons] == [(0, "url")]


def test_a_format_other_than_named_is_published_as_positional() -> None:
    assert replace(STORED, parameter_format="POSITIONAL").state().parameter_format == "positional"
    assert replace(STORED, parameter_format="odd").state().parameter_format == "positional"
