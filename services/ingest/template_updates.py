"""Pure builders for template webhooks (§2.8): status, category, quality and components updates.

Meta's quality-update sample arrives under `message_template_status_update`, so quality is told
apart by the presence of `new_quality_score`, not by the field name alone.
"""

from __future__ import annotations

from typing import Any

from services.ingest import coerce
from services.ingest.changes import PRODUCER, Change, Emit
from shared.events.envelope import deterministic_id
from shared.events.templates import TemplateUpdateKind, TemplateUpdateReported
from shared.topics import TEMPLATE_UPDATES

TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "template_category_update",
        "message_template_quality_update",
        "message_template_components_update",
    }
)
_DETAILS = ("other_info", "rejection_info", "disable_info")
_IDENTITY = ("message_template_id", "message_template_name", "message_template_language")


def kind_of(field: str, value: dict[str, Any]) -> TemplateUpdateKind:
    if "new_quality_score" in value or field == "message_template_quality_update":
        return "quality"
    if field == "template_category_update":
        return "category"
    if field == "message_template_components_update":
        return "components"
    return "status"


def _upper(raw: object, where: str) -> str | None:
    value = coerce.optional_text(raw, where)
    return value.upper() if value is not None else None


def template_update(change: Change) -> Emit:
    value = change.value
    coerce.clean(value, "value")
    kind = kind_of(change.field, value)
    waba = change.waba()
    template_id = coerce.graph_id(value.get("message_template_id"), "message_template_id")
    common: dict[str, Any] = {
        "event": _upper(value.get("event"), "event"),
        "reason": coerce.optional_text(value.get("reason"), "reason"),
        "category": _upper(value.get("message_template_category"), "message_template_category"),
        "previous_category": _upper(value.get("previous_category"), "previous_category"),
        "new_category": _upper(value.get("new_category"), "new_category"),
        "correct_category": _upper(value.get("correct_category"), "correct_category"),
        "category_update_at": coerce.optional_timestamp(
            value.get("category_update_timestamp"), "category_update_timestamp"
        ),
        "previous_quality_score": _upper(
            value.get("previous_quality_score"), "previous_quality_score"
        ),
        "new_quality_score": _upper(value.get("new_quality_score"), "new_quality_score"),
    }
    details = {k: value[k] for k in _DETAILS if k in value}
    if kind == "components":
        details = {k: v for k, v in value.items() if k not in _IDENTITY}
    # Meta's dedupe key for template events is (template id, event, entry.time) (§4.9).
    natural = coerce.fingerprint(kind, change.reported_at, common, details)
    event = TemplateUpdateReported(
        event_id=deterministic_id("template", waba, template_id, natural),
        correlation_id=change.correlation_id,
        producer=PRODUCER,
        kind=kind,
        waba_id=waba,
        template_id=template_id,
        template_name=coerce.optional_text(
            value.get("message_template_name"), "message_template_name"
        ),
        language=coerce.language(value.get("message_template_language")),
        reported_at=change.reported_at,
        details=details,
        **common,
    )
    return TEMPLATE_UPDATES, event, f"{waba}:{template_id}"
