"""Pure projection of topic records onto the console's tables: each event becomes the rows
it adds (a batch gathers them so the store writes each table once per batch)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.console import masking
from services.console.tables import (
    ACCOUNT_UPDATES,
    CONSENT,
    DEAD_LETTERS,
    DECISIONS,
    DELIVERIES,
    INBOUND,
    INTENTS,
    TEMPLATE_STATES,
    WINDOWS,
    Table,
)
from shared import deadletters
from shared.events.account import AccountUpdateReported
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged
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


Row = tuple[Any, ...]


@dataclass(frozen=True)
class Sighting:
    """A customer identifier seen at a time (for the customers and identities tables), and
    what said it names that customer (`source`: none for the identifier itself)."""

    customer: str
    identifier: str
    kind: str
    at: datetime
    source: str | None = None


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

    def linked(self, identity: CustomerIdentity, at: datetime, source: str, *more: str) -> str:
        """Note that every identifier of `identity` (and `more`, e.g. a previous one) names
        one customer: each is linked to each, both ways, so any of them finds the others;
        the username is noted as a name. Returns the customer events are keyed by."""
        named = {customer_of(i) for i in (*identity.identifiers, *more) if customer_of(i)[0]}
        for customer, _ in named:
            for identifier, kind in named:
                given = None if identifier == customer else source
                self.sightings.append(Sighting(customer, identifier, kind, at, given))
            if identity.username:
                self.sightings.append(Sighting(customer, identity.username, "username", at))
        return customer_of(identity.primary)[0]

    def identities(self) -> list[tuple[str, str, str, datetime, datetime, str | None]]:
        """Each (customer, identifier) once, with its first and last sighting and its first
        source, in key order (so concurrent writers take row locks in one order)."""
        seen: dict[tuple[str, str], tuple[str, datetime, datetime, str | None]] = {}
        for s in self.sightings:
            was = seen.get((s.customer, s.identifier), (s.kind, s.at, s.at, s.source))
            kind, first, last, source = was
            seen[(s.customer, s.identifier)] = (
                kind, min(first, s.at), max(last, s.at), source or s.source,
            )  # fmt: skip
        return [(c, i, *seen[(c, i)]) for c, i in sorted(seen)]

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def customer_of(identifier: str) -> tuple[str, str]:
    """The customer an identifier names and its kind: a BSUID (or a parent BSUID) as Meta
    spells it, else a phone number as WhatsApp ids are spelled (digits only)."""
    value = identifier.strip()
    if BSUID.match(value):
        return value, "parent_bsuid" if ".ENT." in value else "bsuid"
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
    """A customer's message names them by every identifier Meta gave (phone, BSUID, parent
    BSUID, the `contacts[].wa_id` Meta reports beside `from`)."""
    more = (event.contact_wa_id,) if event.contact_wa_id else ()
    customer = batch.linked(event.identity, event.occurred_at, "inbound message", *more)
    if event.contact_name:
        batch.sightings.append(Sighting(customer, event.contact_name, "name", event.occurred_at))
    batch.add(INBOUND, _row(INBOUND, event, customer=customer, sent_at=event.timestamp))


def identity_change(batch: Batch, event: CustomerIdentityChanged) -> None:
    """Meta names a customer anew: how they were known and how they are known now are one
    customer (the page tells which identifier came from which change)."""
    batch.linked(event.current, event.occurred_at, event.change, *event.previous.identifiers)


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
    CustomerIdentityChanged: identity_change,
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
