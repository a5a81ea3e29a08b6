"""Template webhooks (§2.8): status, category and quality updates, in Meta's exact envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sandbox.rules.template_model import Template
from services.sandbox.rules.webhook_envelopes import envelope

PAUSE_TITLES = {1: "FIRST_PAUSE", 2: "SECOND_PAUSE"}


def _ids(template: Template) -> dict[str, Any]:
    return {
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
    }


def status_update(
    waba_id: str,
    template: Template,
    at: datetime,
    *,
    reason: str | None = "NONE",
    other_info: dict[str, str] | None = None,
    recommendation: str | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {"event": template.status, **_ids(template), "reason": reason}
    value["message_template_category"] = template.category
    if other_info is not None:
        value["other_info"] = other_info
    if template.status == "REJECTED" and recommendation is not None:
        value["rejection_info"] = {"reason": reason, "recommendation": recommendation}
    if template.status == "DISABLED":
        value["disable_info"] = {"disable_date": int(at.timestamp())}
    return envelope(waba_id, "message_template_status_update", value, at)


def pause_info(pauses: int) -> dict[str, str]:
    return {
        "title": PAUSE_TITLES.get(pauses, "DISABLED"),
        "description": "Your WhatsApp message template has been paused.",
    }


def unpause_info() -> dict[str, str]:
    return {"title": "UNPAUSE", "description": "Your WhatsApp message template has been unpaused."}


def category_update(
    waba_id: str, template: Template, previous: str, at: datetime
) -> dict[str, Any]:
    """The category changed (`previous_category` -> `new_category`)."""
    value = {**_ids(template), "previous_category": previous, "new_category": template.category}
    return envelope(waba_id, "template_category_update", value, at)


def category_notice(
    waba_id: str, template: Template, correct: str, effective: datetime, at: datetime
) -> dict[str, Any]:
    """The impending change, 24 h ahead: `new_category` is the current one."""
    value = {
        **_ids(template),
        "new_category": template.category,
        "correct_category": correct,
        "category_update_timestamp": int(effective.timestamp()),
    }
    return envelope(waba_id, "template_category_update", value, at)


def quality_update(waba_id: str, template: Template, previous: str, at: datetime) -> dict[str, Any]:
    value = {
        "previous_quality_score": previous,
        "new_quality_score": template.quality,
        **_ids(template),
    }
    return envelope(waba_id, "message_template_quality_update", value, at)
