"""The registry's values: a stored template-language, the key that names it, its creation
request and its API shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.templates.records import Key, TemplateRecord

STORED = TemplateRecord(
    waba_id="102290129340398",
    name="shipping_update",
    language="pt_BR",
    category="UTILITY",
    parameter_format="NAMED",
    components=[{"type": "BODY", "text": "Oi {{first_name}}, pedido {{order}}."}],
    meta_id="1001",
    status="APPROVED",
    version=3,
)
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
