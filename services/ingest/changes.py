"""What ingest's builders share: one change of a webhook entry as they read it, the
(topic, event, key) each returns, and the producer's name every event carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.ingest import coerce
from shared.events.envelope import Event
from shared.topics import TopicSpec

PRODUCER = "ingest"
Emit = tuple[TopicSpec, Event, str]


@dataclass(frozen=True)
class Change:
    """One `changes[]` item: its field and value, its entry's WABA id and time, the id of the
    webhook it came in (every event's correlation id), when that webhook was received and how
    far past that a timestamp may be before it is flagged as in the future."""

    field: str
    value: dict[str, Any]
    waba_id: str | None
    reported_at: datetime | None
    correlation_id: str
    received_at: datetime | None = None
    future_skew: timedelta = timedelta(0)

    def waba(self) -> str:
        """The entry's WABA id, which the events of WABA-level fields require."""
        return coerce.text(self.waba_id, "entry.id")
