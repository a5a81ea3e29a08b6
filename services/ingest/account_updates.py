"""Pure builder for account and phone-number webhooks: the value is kept whole, with the few
fields every consumer needs (`event`, the display number) lifted out."""

from __future__ import annotations

from services.ingest import coerce
from services.ingest.changes import PRODUCER, Change, Emit
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


def account_update(change: Change) -> Emit:
    value = change.value
    coerce.clean(value, "value")
    waba = change.waba()
    event_name = coerce.optional_text(value.get("event") or value.get("decision"), "event")
    natural = coerce.fingerprint(change.field, change.reported_at, value)
    event = AccountUpdateReported(
        event_id=deterministic_id("account", waba, natural),
        correlation_id=change.correlation_id,
        producer=PRODUCER,
        field=change.field,
        waba_id=waba,
        event=event_name.upper() if event_name else None,
        display_phone_number=coerce.optional_text(
            value.get("display_phone_number"), "display_phone_number"
        ),
        reported_at=change.reported_at,
        details=value,
    )
    return ACCOUNT_UPDATES, event, waba
