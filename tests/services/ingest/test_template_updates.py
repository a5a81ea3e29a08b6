"""Template webhooks (§2.8): status, category, quality and components updates, with one
spelling of the language and Meta's dedupe key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.events.templates import TemplateUpdateReported
from shared.topics import TEMPLATE_UPDATES
from tests.services.ingest.meta_payloads import TIME, WABA, only_event, webhook

# §4.10 (F)
PAUSED = {
    "event": "PAUSED",
    "message_template_id": 1689556908129832,
    "message_template_name": "order_confirmation",
    "message_template_language": "en_US",
    "reason": "NONE",
    "message_template_category": "UTILITY",
    "other_info": {"title": "FIRST_PAUSE", "description": "Your template has been paused."},
}
# §4.10 (G)
CATEGORY_NOTICE = {
    "message_template_id": 278077987957091,
    "message_template_name": "welcome_template",
    "message_template_language": "en_US",
    "new_category": "UTILITY",
    "correct_category": "MARKETING",
    "category_update_timestamp": 1746169200,
}
QUALITY = {
    "previous_quality_score": "GREEN",
    "new_quality_score": "YELLOW",
    "message_template_id": 806312974732579,
    "message_template_name": "welcome_template",
    "message_template_language": "en-US",
}


def test_template_paused() -> None:
    topic, event, key = only_event(webhook("message_template_status_update", PAUSED))

    assert topic is TEMPLATE_UPDATES
    assert key == f"{WABA}:1689556908129832"
    assert isinstance(event, TemplateUpdateReported)
    assert (event.kind, event.event, event.reason, event.category) == (
        "status",
        "PAUSED",
        "NONE",
        "UTILITY",
    )
    assert (event.template_id, event.template_name, event.language) == (
        "1689556908129832",
        "order_confirmation",
        "en_US",
    )
    assert event.reported_at == datetime.fromtimestamp(TIME, UTC)
    assert event.details == {"other_info": PAUSED["other_info"]}


def test_template_rejected_keeps_rejection_info() -> None:
    value = {**PAUSED, "event": "REJECTED", "reason": "INVALID_FORMAT"}
    value.pop("other_info")
    value["rejection_info"] = {"reason": "INVALID_FORMAT", "recommendation": "Fix it"}

    _, event, _ = only_event(webhook("message_template_status_update", value))

    assert (event.event, event.details) == ("REJECTED", {"rejection_info": value["rejection_info"]})


def test_template_category_notice() -> None:
    _, event, _ = only_event(webhook("template_category_update", CATEGORY_NOTICE))

    assert event.kind == "category"
    assert (event.new_category, event.correct_category, event.previous_category) == (
        "UTILITY",
        "MARKETING",
        None,
    )
    assert event.category_update_at == datetime(2025, 5, 2, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "field", ["message_template_quality_update", "message_template_status_update"]
)
def test_template_quality_is_recognised_by_its_score_under_either_field(field: str) -> None:
    _, event, key = only_event(webhook(field, QUALITY))

    assert event.kind == "quality"
    assert (event.previous_quality_score, event.new_quality_score) == ("GREEN", "YELLOW")
    assert key == f"{WABA}:806312974732579"


@pytest.mark.parametrize(
    ("spelling", "normalised"),
    [("en_US", "en_US"), ("en-US", "en_US"), ("en-us", "en_US"), ("pt_BR", "pt_BR"), ("de", "de")],
)
def test_language_spellings_are_normalised(spelling: str, normalised: str) -> None:
    value = {**PAUSED, "message_template_language": spelling}

    _, event, _ = only_event(webhook("message_template_status_update", value))

    assert event.language == normalised


def test_the_same_template_event_with_either_language_spelling_has_one_id() -> None:
    a = only_event(webhook("message_template_status_update", PAUSED))[1]
    b_value = {**PAUSED, "message_template_language": "en-US"}
    b = only_event(webhook("message_template_status_update", b_value))[1]
    later = only_event(webhook("message_template_status_update", PAUSED, time=TIME + 60))[1]

    assert a.event_id == b.event_id
    assert a.event_id != later.event_id


def test_template_components_update_keeps_the_changes() -> None:
    value = {
        "message_template_id": 1,
        "message_template_name": "n",
        "message_template_language": "en_US",
        "message_template_element": "Hello {{1}}",
    }

    _, event, _ = only_event(webhook("message_template_components_update", value))

    assert event.kind == "components"
    assert event.details == {"message_template_element": "Hello {{1}}"}
