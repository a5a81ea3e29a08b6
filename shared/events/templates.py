"""Template lifecycle facts Meta reports by webhook: status, category and quality updates (§2.8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from shared.events.envelope import Event

TemplateUpdateKind = Literal["status", "category", "quality", "components"]


class TemplateUpdateReported(Event):
    """Meta reported a change of one template (status, category, quality or components).

    One model for the family, told apart by `kind`; fields that do not apply stay None.
    """

    kind: TemplateUpdateKind
    waba_id: str
    template_id: str
    template_name: str | None = None
    language: str | None = Field(default=None, description="Normalised spelling, e.g. en_US.")
    reported_at: AwareDatetime | None = Field(default=None, description="`entry[].time`.")
    event: str | None = Field(default=None, description="Status event, e.g. APPROVED, PAUSED.")
    reason: str | None = None
    category: str | None = None
    previous_category: str | None = None
    new_category: str | None = None
    correct_category: str | None = None
    category_update_at: AwareDatetime | None = None
    previous_quality_score: str | None = None
    new_quality_score: str | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, description="other_info, rejection_info, disable_info, components."
    )
