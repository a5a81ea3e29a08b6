"""Ingest's metrics, with label values kept bounded whatever Meta (or an attacker) sends."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.ingest.account_updates import ACCOUNT_FIELDS
from services.ingest.template_updates import TEMPLATE_FIELDS
from shared.events.account import AccountUpdateReported, WebhookErrorReported
from shared.events.envelope import Event
from shared.events.message_types import INBOUND
from shared.events.preferences import UserPreferenceChanged
from shared.events.signals import CallReported, OutboundActivityObserved, ThreadControlChanged
from shared.events.templates import TemplateUpdateReported
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported

STATUS_VALUES = frozenset({"sent", "delivered", "read", "played", "failed", "deleted", "warning"})
KNOWN_FIELDS = (
    ACCOUNT_FIELDS
    | TEMPLATE_FIELDS
    | {
        "messages", "user_preferences", "history", "smb_app_state_sync", "smb_message_echoes",
        "automatic_events", "calls", "standby", "messaging_handovers",
        "<payload>", "<entry>", "<change>",
    }
)  # fmt: skip


REASON_KINDS = frozenset({"malformed", "not_typed_yet", "too_many"})


def _bounded(value: str, known: frozenset[str]) -> str:
    return value if value in known else "other"


def event_label(event: Event) -> str:
    """The `type` label of an event: its message type, status, kind or field (bounded)."""
    match event:
        case InboundMessageReceived():
            return _bounded(event.message_type, INBOUND)
        case MessageStatusReported():
            return _bounded(str(event.status), STATUS_VALUES)
        case TemplateUpdateReported():
            return event.kind
        case AccountUpdateReported():
            return _bounded(event.field, ACCOUNT_FIELDS)
        case UserPreferenceChanged():
            return _bounded(event.value, frozenset({"stop", "resume"}))
        case WebhookErrorReported():
            return "error"
        case CallReported():
            return f"call_{event.event}"
        case OutboundActivityObserved():
            return f"echo_{event.source}"
        case ThreadControlChanged():
            return event.change
        case WebhookFragmentUnparsed():
            return _bounded(event.field, KNOWN_FIELDS)
    return "other"


def reason_label(event: WebhookFragmentUnparsed) -> str:
    """Why a fragment was not typed, in a word: the reason's first words (`malformed`,
    `not typed yet`, `too many`), bounded."""
    kind = event.reason.split(":", 1)[0].replace(" ", "_")
    return kind if kind in REASON_KINDS else "other"


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhooks = Counter(
            "wagate_ingest_webhooks_total",
            "Webhook POSTs by outcome (accepted, duplicate, bad_signature, not_json, unavailable,"
            " busy); bodies too large or too slow are counted by wagate_http_refused_total.",
            ["outcome"],
            registry=registry,
        )
        self.signature_failures = Counter(
            "wagate_ingest_signature_failures_total",
            "POSTs refused for their X-Hub-Signature-256 (missing, malformed, mismatch).",
            ["reason"],
            registry=registry,
        )
        self.events = Counter(
            "wagate_ingest_events_total",
            "Events published, by topic and type.",
            ["topic", "type"],
            registry=registry,
        )
        self.duplicates = Counter(
            "wagate_ingest_duplicate_events_total",
            "Events not published again because a redelivery already had them published.",
            ["topic"],
            registry=registry,
        )
        self.unparsed = Counter(
            "wagate_ingest_unparsed_total",
            "Webhook fragments not typed, by field and reason (malformed, not_typed_yet,"
            " too_many).",
            ["field", "reason"],
            registry=registry,
        )
        self.repeated = Counter(
            "wagate_ingest_repeated_items_total",
            "Items repeated within one webhook body, published once.",
            ["topic"],
            registry=registry,
        )
        self.future_timestamps = Counter(
            "wagate_ingest_future_timestamps_total",
            "Events published with timestamp_in_future: a timestamp later than the receive"
            " time plus the allowed skew.",
            ["topic"],
            registry=registry,
        )
        self.journal_lag = Histogram(
            "wagate_ingest_journal_lag_seconds",
            "From receiving a webhook to Kafka acknowledging its raw journal record.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )
        self.expired = Counter(
            "wagate_ingest_dedupe_expired_total",
            "Dedupe keys forgotten after the retention.",
            registry=registry,
        )
