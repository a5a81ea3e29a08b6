"""The sandbox's memory of the world: customers' last messages, sent messages, violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.events.common import MetaError


@dataclass(frozen=True)
class Violation:
    """A request that broke one of Meta's rules; tests count these."""

    at: datetime
    phone_number_id: str
    recipient: str
    code: int
    details: str
    wamid: str | None = None


@dataclass(frozen=True)
class SentMessage:
    wamid: str
    phone_number_id: str
    recipient: str
    kind: str
    accepted_at: datetime
    callback: str | None


@dataclass
class World:
    last_customer_message: dict[tuple[str, str], datetime] = field(default_factory=dict)
    sent: dict[str, SentMessage] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def customer_wrote(self, phone_number_id: str, wa_id: str, at: datetime) -> None:
        key = (phone_number_id, wa_id)
        previous = self.last_customer_message.get(key)
        if previous is None or at > previous:
            self.last_customer_message[key] = at

    def last_message_at(self, phone_number_id: str, wa_id: str) -> datetime | None:
        return self.last_customer_message.get((phone_number_id, wa_id))

    def violate(
        self,
        at: datetime,
        phone_number_id: str,
        recipient: str,
        error: MetaError,
        wamid: str | None = None,
    ) -> None:
        self.violations.append(
            Violation(at, phone_number_id, recipient, error.code, error.details or "", wamid)
        )
