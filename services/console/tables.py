"""The console's tables as the projection fills them: each one's columns in row order, which
are JSON, and what makes a row the same row again (its event id, or a dead letter's place)."""

from __future__ import annotations

from dataclasses import dataclass


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
