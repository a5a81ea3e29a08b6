"""The registry's value types: a stored template-language and the key that names it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from shared.events.template_states import state_key

GONE = ("DELETED", "PENDING_DELETION")
"""Statuses of a template-language that no longer counts: it cannot be sent or edited."""


class Key(NamedTuple):
    waba_id: str
    name: str
    language: str

    def __str__(self) -> str:
        return state_key(*self)


@dataclass(frozen=True)
class TemplateRecord:
    waba_id: str
    name: str
    language: str
    category: str
    parameter_format: str = "POSITIONAL"
    components: list[dict[str, Any]] = field(default_factory=list)
    meta_id: str | None = None
    status: str = "DRAFT"
    quality: str | None = None
    rejected_reason: str | None = None
    message_send_ttl_seconds: int | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    version: int = 1
    last_error: str | None = None
    correct_category: str | None = None
    status_reported_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> Key:
        return Key(self.waba_id, self.name, self.language)

    def creation_request(self) -> dict[str, Any]:
        """The body of Meta's `POST /{waba-id}/message_templates` for this template."""
        body: dict[str, Any] = {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format.lower(),
            "components": self.components,
        }
        if self.message_send_ttl_seconds is not None:
            body["message_send_ttl_seconds"] = self.message_send_ttl_seconds
        return body

    def as_api(self) -> dict[str, Any]:
        return {
            "waba_id": self.waba_id,
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format.lower(),
            "components": self.components,
            "message_send_ttl_seconds": self.message_send_ttl_seconds,
            "meta_id": self.meta_id,
            "status": self.status,
            "quality": self.quality,
            "rejected_reason": self.rejected_reason,
            "correct_category": self.correct_category,
            "warnings": self.warnings,
            "last_error": self.last_error,
            "version": self.version,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
