"""Pure projection of topic records onto the console's tables: each event becomes the rows
it adds (a batch gathers them so the store writes each table once per batch)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.console import masking
from shared import deadletters
from shared.events.account import AccountUpdateReported
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import normalize_wa_id
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from shared.events.windows import WindowChanged

BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[0-9A-Za-z]{1,128}$")
SHOWN_MAX = 64 * 1024  # characters of a dead letter's value kept for display
# policy's expected prices that say the template is no AUTHENTICATION one
CODELESS_PRICING = frozenset({"marketing", "utility", "service", "free_service"})


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    json: frozenset[str] = frozenset()  # columns given as JSON text (jsonb)
    conflict: tuple[str, ...] = ("event_id",)


INTENTS = Table(
    "console_intents",
    ("event_id", "intent_id", "phone_number_id", "customer", "content_type", "template_name",
     "template_language", "priority", "metadata", "metadata_values", "body", "occurred_at"),
    json=frozenset({"metadata", "body"}),
)  # fmt: skip
DECISIONS = Table(
    "console_decisions",
    ("event_id", "intent_id", "phone_number_id", "customer", "outcome", "reasons", "detail",
     "window_seen", "pricing", "valid_until", "policy_version", "intent", "occurred_at"),
    json=frozenset({"window_seen", "intent"}),
)  # fmt: skip
DELIVERIES = Table(
    "console_deliveries",
    ("event_id", "intent_id", "phone_number_id", "customer", "state", "wamid", "reasons",
     "detail", "errors", "pricing", "occurred_at"),
    json=frozenset({"errors", "pricing"}),
)  # fmt: skip
WINDOWS = Table(
    "console_windows",
    ("event_id", "phone_number_id", "customer", "change", "last_customer_message_at",
     "expires_at", "occurred_at"),
)  # fmt: skip
CONSENT = Table(
    "console_consent",
    ("event_id", "phone_number_id", "customer", "category", "opted_in", "source", "intent_id",
     "occurred_at"),
)  # fmt: skip
INBOUND = Table(
    "console_inbound",
    ("event_id", "phone_number_id", "waba_id", "display_phone_number", "customer", "message_id",
     "message_type", "text", "contact_name", "sent_at", "occurred_at"),
)  # fmt: skip
TEMPLATE_STATES = Table(
    "console_template_states",
    ("event_id", "waba_id", "name", "language", "category", "status", "quality",
     "rejected_reason", "correct_category", "version", "occurred_at"),
)  # fmt: skip
ACCOUNT_UPDATES = Table(
    "console_account_updates",
    ("event_id", "waba_id", "field", "event", "display_phone_number", "details", "reported_at",
     "occurred_at"),
    json=frozenset({"details"}),
)  # fmt: skip
DEAD_LETTERS = Table(
    "console_dead_letters",
    ("topic", "partition", "offset", "record_key", "reason", "source_topic", "source_partition",
     "source_offset", "consumer_group", "intent_id", "headers", "shown", "occurred_at"),
    json=frozenset({"headers"}),
    conflict=("topic", "partition", "offset"),
)  # fmt: skip
TABLES = (INTENTS, DECISIONS, DELIVERIES, WINDOWS, CONSENT, INBOUND, TEMPLATE_STATES,
          ACCOUNT_UPDATES, DEAD_LETTERS)  # fmt: skip

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Sighting:
    """A customer identifier seen at a time (for the customers and identities tables)."""

    customer: str
    identifier: str
    kind: str
    at: datetime


@dataclass
class Batch:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    sightings: list[Sighting] = field(default_factory=list)

    def add(self, table: Table, row: Row) -> None:
        assert len(row) == len(table.columns), table.name
        self.rows.setdefault(table.name, []).append(row)

    def saw(self, identifier: str, at: datetime, kind: str | None = None) -> str:
        """Note a customer identifier; returns the customer it belongs to."""
        customer, guessed = customer_of(identifier)
        if customer:
            self.sightings.append(Sighting(customer, customer, kind or guessed, at))
        return customer

    def identities(self) -> list[tuple[str, str, str, datetime, datetime]]:
        """Each (customer, identifier) once, with its first and last sighting, in key order
        (so concurrent writers take row locks in one order)."""
        seen: dict[tuple[str, str], tuple[str, datetime, datetime]] = {}
        for s in self.sightings:
            kind, first, last = seen.get((s.customer, s.identifier), (s.kind, s.at, s.at))
            seen[(s.customer, s.identifier)] = (kind, min(first, s.at), max(last, s.at))
        return [(c, i, *seen[(c, i)]) for c, i in sorted(seen)]

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def customer_of(identifier: str) -> tuple[str, str]:
    """The customer an identifier names and its kind: a BSUID as Meta spells it, else a
    phone number as WhatsApp ids are spelled (digits only)."""
    value = identifier.strip()
    if BSUID.match(value):
        return value, "bsuid"
    return normalize_wa_id(value), "phone"


def _row(table: Table, event: Event, **values: Any) -> Row:
    """A table's row: each column from `values`, else the event's field of that name."""
    return tuple(values[c] if c in values else getattr(event, c) for c in table.columns)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def intent(batch: Batch, event: OutboundIntentSubmitted) -> None:
    """An intent as submitted, with sensitive values redacted (its template's category is not
    known here, so every body and button parameter of a template is)."""
    body = masking.scrub(event.model_dump(mode="json"), unknown_category=True)
    _intent_row(batch, event, body)


def _intent_row(batch: Batch, event: OutboundIntentSubmitted, body: Any) -> None:
    template = event.content if isinstance(event.content, TemplateContent) else None
    customer = batch.saw(event.customer, event.occurred_at)
    batch.add(
        INTENTS,
        (event.event_id, event.intent_id, event.phone_number_id, customer, event.content.type,
         template.name if template else None, template.language if template else None,
         event.priority, _json(event.metadata), sorted(set(event.metadata.values())),
         _json(body), event.occurred_at),
    )  # fmt: skip


def decision(batch: Batch, event: PolicyDecisionMade) -> None:
    """A decision, with the intent policy saw (redacted by policy, which knows the template's
    category; `sealed` is never kept). Unless the expected price names a category that
    carries no one-time code, the console redacts every code-bearing parameter as well. The
    intent is also recorded under its own event id, so one the console missed is found."""
    unknown = event.pricing not in CODELESS_PRICING
    shown = masking.scrub(event.intent.model_dump(mode="json"), unknown_category=unknown)
    _intent_row(batch, event.intent, shown)
    window = event.window.model_dump(mode="json") if event.window else None
    batch.add(
        DECISIONS,
        (event.event_id, event.intent.intent_id, event.intent.phone_number_id,
         customer_of(event.intent.customer)[0], event.outcome, list(event.reasons), event.detail,
         _json(window) if window else None, event.pricing, event.valid_until,
         event.policy_version, _json(shown), event.occurred_at),
    )  # fmt: skip


def delivery(batch: Batch, event: DeliveryUpdated) -> None:
    errors = _json([e.model_dump(mode="json") for e in event.errors])
    pricing = _json(event.pricing) if event.pricing is not None else None
    customer = batch.saw(event.to, event.occurred_at)
    batch.add(
        DELIVERIES, _row(DELIVERIES, event, customer=customer, errors=errors, pricing=pricing)
    )


def window(batch: Batch, event: WindowChanged) -> None:
    batch.add(WINDOWS, _row(WINDOWS, event, customer=batch.saw(event.wa_id, event.occurred_at)))


def consent(batch: Batch, event: ConsentChanged) -> None:
    batch.add(CONSENT, _row(CONSENT, event, customer=batch.saw(event.customer, event.occurred_at)))


def preference(batch: Batch, event: UserPreferenceChanged) -> None:
    """A customer's stop or resume (Meta's `user_preferences`) is consent history too."""
    customer = batch.saw(event.customer, event.occurred_at)
    category = event.category.removesuffix("_messages")
    batch.add(
        CONSENT,
        (event.event_id, event.phone_number_id, customer, category, event.value == "resume",
         f"user_preferences:{event.value}", None, event.timestamp),
    )  # fmt: skip


def inbound(batch: Batch, event: InboundMessageReceived) -> None:
    customer = batch.saw(event.customer, event.occurred_at)
    if event.contact_name:
        batch.sightings.append(Sighting(customer, event.contact_name, "name", event.occurred_at))
    batch.add(INBOUND, _row(INBOUND, event, customer=customer, sent_at=event.timestamp))


def template_state(batch: Batch, event: TemplateStateChanged) -> None:
    batch.add(TEMPLATE_STATES, _row(TEMPLATE_STATES, event))


def account_update(batch: Batch, event: AccountUpdateReported) -> None:
    batch.add(ACCOUNT_UPDATES, _row(ACCOUNT_UPDATES, event, details=_json(event.details)))


PROJECTIONS: dict[type[Event], Any] = {
    OutboundIntentSubmitted: intent,
    PolicyDecisionMade: decision,
    DeliveryUpdated: delivery,
    WindowChanged: window,
    ConsentChanged: consent,
    UserPreferenceChanged: preference,
    InboundMessageReceived: inbound,
    TemplateStateChanged: template_state,
    AccountUpdateReported: account_update,
}


def project(batch: Batch, event: Event) -> None:
    PROJECTIONS[type(event)](batch, event)


def dead_letter(batch: Batch, record: deadletters.DeadLetter) -> None:
    """A dead letter's position, headers and a displayable value: sealed values dropped and,
    the record's template category being unknown, every parameter that may hold a code."""
    headers = [[k, v.decode(errors="replace")] for k, v in record.headers or ()]
    named = dict((k, v) for k, v in reversed(headers))
    batch.add(
        DEAD_LETTERS,
        (record.topic, record.partition, record.offset,
         record.key.decode(errors="replace") if record.key is not None else None,
         named.get(deadletters.REASON, "(no wagate-reason header)"),
         named.get(deadletters.SOURCE_TOPIC), _int(named.get(deadletters.SOURCE_PARTITION)),
         _int(named.get(deadletters.SOURCE_OFFSET)), named.get(deadletters.CONSUMER_GROUP),
         named.get(deadletters.INTENT_ID) or _intent_id(record.value), _json(headers),
         shown_value(record.value), datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)),
    )  # fmt: skip


def shown_value(value: bytes | None) -> str:
    """What the console may show of a record's value: JSON scrubbed and pretty-printed; any
    other bytes as text, cut at SHOWN_MAX characters."""
    if value is None:
        return "(empty: a tombstone)"
    text = value.decode(errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:SHOWN_MAX]
    return json.dumps(masking.scrub(parsed, unknown_category=True), indent=2)[:SHOWN_MAX]


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _intent_id(value: bytes | None) -> str | None:
    """The intent a dead letter is about, when its value is an intent or a decision."""
    try:
        parsed = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    inner = parsed.get("intent")
    found = parsed.get("intent_id") or (inner.get("intent_id") if isinstance(inner, dict) else None)
    return found if isinstance(found, str) else None
