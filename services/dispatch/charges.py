"""What Meta charged, from the `pricing` of its statuses (rules §3.4, §4.5, §9.4): one charge
per wamid, counted once its `delivered` or `read` status carries the pricing (Meta bills
delivered messages only; `pricing` comes on `sent` and on one of `delivered`/`read`). Pure,
but for the `ChargeBook` port (`store.PostgresCharges`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import TemplateContent
from shared.events.webhooks import MessageStatusReported

CATEGORIES = frozenset(
    {"authentication", "authentication-international", "marketing", "marketing_lite"}
    | {"utility", "service", "referral_conversion"}
)
TYPES = frozenset({"regular", "free_customer_service", "free_entry_point"})
OTHER = "other"  # a value Meta has not documented: kept in the table, a bounded metric label
DELIVERED = frozenset({"delivered", "read", "played"})
TEXT_MAX = 64


@dataclass(frozen=True)
class Charge:
    wamid: str
    intent_id: str
    phone_number_id: str
    template: str  # "" for a message that is no template
    category: str
    pricing_type: str
    pricing_model: str
    billable: bool | None
    delivered: bool  # a delivered/read status carried it: the message counts as billed
    at: datetime

    @property
    def charged(self) -> bool:
        """Meta bills it: delivered and `type` regular (`billable` where `type` is missing)."""
        if not self.delivered:
            return False
        if self.pricing_type in TYPES:
            return self.pricing_type == "regular"
        return self.billable is True

    def labels(self) -> tuple[str, str, str, str]:
        """Its metric labels, each of a bounded set (a template name is one of the WABA's)."""
        category = self.category if self.category in CATEGORIES else OTHER
        kind = self.pricing_type if self.pricing_type in TYPES else OTHER
        return self.phone_number_id, self.template or "none", category, kind


class ChargeBook(Protocol):
    async def record(self, charge: Charge) -> bool:
        """Keep the charge (the latest pricing of its wamid); True the first time it is kept
        as delivered, so it is counted once however often its statuses come."""
        ...

    async def record_many(self, charges: Sequence[Charge]) -> list[bool]:
        """`record` for several wamids (each once) in one round trip, in their order."""
        ...

    async def spend(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """Per number, template, category and type: messages priced, delivered, charged."""
        ...


def _text(value: Any, default: str = OTHER) -> str:
    return value[:TEXT_MAX] if isinstance(value, str) and value else default


def charge_of(
    status: MessageStatusReported, intent_id: str, decision: PolicyDecisionMade | None
) -> Charge | None:
    """The charge a status's `pricing` says, or None when it carries none (or no object)."""
    pricing: Mapping[str, Any] | None = status.pricing
    if not isinstance(pricing, Mapping) or not pricing:
        return None
    content = decision.intent.content if decision is not None else None
    billable = pricing.get("billable")
    return Charge(
        wamid=status.message_id,
        intent_id=intent_id,
        phone_number_id=status.phone_number_id,
        template=_text(content.name, "") if isinstance(content, TemplateContent) else "",
        category=_text(pricing.get("category")),
        pricing_type=_text(pricing.get("type")),
        pricing_model=_text(pricing.get("pricing_model"), ""),
        billable=billable if isinstance(billable, bool) else None,
        delivered=status.status in DELIVERED,
        at=status.timestamp,
    )
