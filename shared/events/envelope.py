"""The one envelope every event carries, and deterministic ids from natural keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_NAMESPACE = uuid.UUID("6f1c7f2e-8a55-4b0e-9d51-2a4f0c9e7b11")


def deterministic_id(*parts: str) -> str:
    """An event id derived from natural keys, so a redelivered fact gets the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base for every value carried in an event: frozen, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(Model):
    """Envelope fields shared by every event; subclasses add the fact itself."""

    event_id: str = Field(default_factory=new_id)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    schema_version: int = 1
    correlation_id: str | None = None
    causation_id: str | None = None
    producer: str = "unknown"

    def caused(self, **changes: object) -> dict[str, object]:
        """Envelope fields for an event caused by this one (same correlation)."""
        return {
            "correlation_id": self.correlation_id or self.event_id,
            "causation_id": self.event_id,
            **changes,
        }

    def with_producer(self, producer: str) -> Self:
        return self.model_copy(update={"producer": producer})
