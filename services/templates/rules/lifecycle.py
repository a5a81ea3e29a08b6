"""How a stored template changes: Meta's webhook updates, what a sync reads back, which edits
Meta allows. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.templates.records import TemplateRecord
from services.templates.rules.issues import Issue, error
from shared.events.templates import TemplateUpdateReported

EDITABLE = ("APPROVED", "REJECTED", "PAUSED", "DRAFT")
EDITS_PER_DAY = 1
EDITS_PER_30_DAYS = 10
DAY = timedelta(days=1)
MONTH = timedelta(days=30)


def apply_update(record: TemplateRecord, update: TemplateUpdateReported) -> dict[str, Any]:
    """The fields a webhook update changes; empty when it changes nothing or came late."""
    if update.kind == "status" and update.event:
        late = (
            update.reported_at is not None
            and record.status_reported_at is not None
            and update.reported_at < record.status_reported_at
        )
        if late:
            return {}
        changes: dict[str, Any] = {"status": update.event.upper(), "meta_id": update.template_id}
        if update.reported_at is not None:
            changes["status_reported_at"] = update.reported_at
        if update.event.upper() == "REJECTED":
            info = update.details.get("rejection_info") or {}
            changes["rejected_reason"] = update.reason or info.get("reason")
        elif update.event.upper() in ("APPROVED", "PENDING"):
            changes["rejected_reason"] = None
        if update.category:
            changes["category"] = update.category.upper()
        return changes
    if update.kind == "category":
        if update.previous_category and update.new_category:
            return {"category": update.new_category.upper(), "correct_category": None}
        if update.correct_category:
            return {"correct_category": update.correct_category.upper()}
        return {}
    if update.kind == "quality" and update.new_quality_score:
        return {"quality": update.new_quality_score.upper()}
    return {}


def reconcile(record: TemplateRecord, remote: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a template read back from the Cloud API corrects."""
    changes: dict[str, Any] = {}
    if remote.get("id"):
        changes["meta_id"] = str(remote["id"])
    if remote.get("status"):
        changes["status"] = str(remote["status"]).upper()
    if remote.get("category"):
        changes["category"] = str(remote["category"]).upper()
    quality = remote.get("quality_score")
    if isinstance(quality, Mapping) and quality.get("score"):
        changes["quality"] = str(quality["score"]).upper()
    if changes.get("status") == "REJECTED":
        changes["rejected_reason"] = remote.get("rejected_reason") or record.rejected_reason
    elif "status" in changes:
        changes["rejected_reason"] = None
    correct = remote.get("correct_category")
    changes["correct_category"] = (
        str(correct).upper()
        if correct and str(correct).upper() != changes.get("category")
        else None
    )
    return changes


def remote_record(waba_id: str, remote: Mapping[str, Any]) -> TemplateRecord | None:
    """A template the Cloud API knows and the registry does not (created elsewhere)."""
    name, language, category = remote.get("name"), remote.get("language"), remote.get("category")
    if not (isinstance(name, str) and isinstance(language, str) and isinstance(category, str)):
        return None
    components = remote.get("components")
    base = TemplateRecord(
        waba_id=waba_id,
        name=name,
        language=language.replace("-", "_"),
        category=category.upper(),
        parameter_format=str(remote.get("parameter_format") or "POSITIONAL").upper(),
        components=list(components) if isinstance(components, list) else [],
    )
    changes = reconcile(base, remote)
    return TemplateRecord(**{**base.__dict__, **changes})


def check_edit(
    record: TemplateRecord, new_category: str | None, edits_day: int, edits_month: int
) -> list[Issue]:
    """Meta edits only approved, rejected or paused templates; approved ones sparingly."""
    if record.status not in EDITABLE:
        return [
            error(
                "status",
                "NOT_EDITABLE",
                f"a {record.status} template cannot be edited (only {', '.join(EDITABLE[:3])})",
            )
        ]
    if record.status != "APPROVED":
        return []
    issues: list[Issue] = []
    if new_category and new_category.upper() != record.category:
        issues.append(
            error("category", "CATEGORY_LOCKED", "an approved template's category cannot change")
        )
    if edits_day >= EDITS_PER_DAY:
        issues.append(error("status", "EDIT_LIMIT", "an approved template: one edit per 24 hours"))
    elif edits_month >= EDITS_PER_30_DAYS:
        issues.append(error("status", "EDIT_LIMIT", "an approved template: 10 edits per 30 days"))
    return issues


def edit_windows(now: datetime) -> tuple[datetime, datetime]:
    return now - DAY, now - MONTH
