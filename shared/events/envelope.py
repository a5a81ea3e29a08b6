"""The one envelope every event carries, and deterministic ids from natural keys."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_NAMESPACE = uuid.UUID("6f1c7f2e-8a55-4b0e-9d51-2a4f0c9e7b11")


_NAMESPACE_BYTES = _NAMESPACE.bytes


def deterministic_id(*parts: str) -> str:
    """An event id derived from natural keys, so a redelivered fact gets the same id: the
    UUID version 5 of the joined keys in wagate's namespace (`uuid.uuid5`, without building the
    UUID object on every event)."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode(), usedforsecurity=False)
    h = bytearray(digest.digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # the RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


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
