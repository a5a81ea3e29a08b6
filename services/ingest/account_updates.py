"""Pure builder for account and phone-number webhooks: the value is kept whole, with the few
fields every consumer needs (`event`, the display number) lifted out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.ingest import coerce
from services.ingest.messages import PRODUCER, Emit
from shared.events.account import AccountUpdateReported
from shared.events.envelope import deterministic_id
from shared.topics import ACCOUNT_UPDATES

ACCOUNT_FIELDS = frozenset(
    {
        "account_update",
        "account_alerts",
        "account_review_update",
        "business_capability_update",
        "phone_number_quality_update",
        "phone_number_name_update",
        "security",
        "partner_solutions",
        "payment_configuration_update",
    }
)


def account_update(
    field: str,
    value: dict[str, Any],
    waba_id: str | None,
    reported_at: datetime | None,
    correlation_id: str,
) -> Emit:
    waba = coerce.text(waba_id, "entry.id")
    event_name = coerce.optional_text(value.get("event") or value.get("decision"), "event")
    natural = coerce.fingerprint(field, reported_at, value)
    event = AccountUpdateReported(
        event_id=deterministic_id("account", waba, natural),
        correlation_id=correlation_id,
        producer=PRODUCER,
        field=field,
        waba_id=waba,
        event=event_name.upper() if event_name else None,
        display_phone_number=coerce.optional_text(
            value.get("display_phone_number"), "display_phone_number"
        ),
        reported_at=reported_at,
        details=value,
    )
    return ACCOUNT_UPDATES, event, waba
