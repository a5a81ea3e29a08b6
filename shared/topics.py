"""The topic registry: every topic wagate uses, its model, key, partitions and retention.

Topic names carry their major version. Topics keyed by conversation (business number and
customer) share one partition count so policy's tables stay co-partitioned with their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.account import AccountUpdateReported, WebhookErrorReported
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.identity import CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted
from shared.events.media import InboundMediaReported
from shared.events.preferences import UserPreferenceChanged
from shared.events.signals import CallReported, OutboundActivityObserved, ThreadControlChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.templates import TemplateUpdateReported
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported, WebhookReceived
from shared.events.windows import WindowChanged

CONVERSATION_PARTITIONS = 12
DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    model: type[Event] | None
    key: str
    partitions: int = CONVERSATION_PARTITIONS
    compacted: bool = False
    retention_ms: int = 7 * DAY_MS
    doc: str = ""

    @property
    def config(self) -> dict[str, str]:
        cleanup = "compact" if self.compacted else "delete"
        return {"cleanup.policy": cleanup, "retention.ms": str(self.retention_ms)}


INBOUND_MEDIA = TopicSpec(
    "wagate.inbound.media.v1",
    InboundMediaReported,
    "phone_number_id:wa_id",
    doc="Customers' files dispatch fetched and kept (reference, checksum), or could not.",
)
WEBHOOKS_RAW = TopicSpec(
    "wagate.webhooks.raw.v1",
    WebhookReceived,
    "phone_number_id or WABA id",
    retention_ms=14 * DAY_MS,
    doc="Every verified webhook body, journaled before parsing.",
)
INBOUND_MESSAGES = TopicSpec(
    "wagate.inbound.messages.v1",
    InboundMessageReceived,
    "phone_number_id:wa_id",
    doc="Messages customers sent to a business number.",
)
STATUSES = TopicSpec(
    "wagate.statuses.v1",
    MessageStatusReported,
    "phone_number_id:recipient_id",
    doc="Status updates Meta reported for sent messages.",
)
INTENTS = TopicSpec(
    "wagate.intents.v1",
    OutboundIntentSubmitted,
    "phone_number_id:to",
    doc="What business systems ask wagate to send (input).",
)
DECISIONS = TopicSpec(
    "wagate.decisions.v1",
    PolicyDecisionMade,
    "phone_number_id:to",
    doc="Policy's verdict on each intent, with reasons.",
)
DELIVERY = TopicSpec(
    "wagate.delivery.v1",
    DeliveryUpdated,
    "phone_number_id:to",
    doc="Every step of each intent's fate (output for business systems).",
)
DEAD_LETTERS = TopicSpec(
    "wagate.deadletter.v1",
    None,
    "the original key",
    retention_ms=30 * DAY_MS,
    doc="Records no consumer could process, with reason headers.",
)
USER_PREFERENCES = TopicSpec(
    "wagate.user.preferences.v1",
    UserPreferenceChanged,
    "phone_number_id:wa_id",
    retention_ms=30 * DAY_MS,
    doc="Customers' marketing stop/resume requests (user_preferences webhooks).",
)
TEMPLATE_UPDATES = TopicSpec(
    "wagate.template.updates.v1",
    TemplateUpdateReported,
    "waba_id:template_id",
    partitions=6,
    retention_ms=30 * DAY_MS,
    doc="Template status, category and quality updates Meta reported.",
)
ACCOUNT_UPDATES = TopicSpec(
    "wagate.account.updates.v1",
    AccountUpdateReported,
    "waba_id",
    partitions=3,
    retention_ms=30 * DAY_MS,
    doc="Account and phone-number updates Meta reported.",
)
WEBHOOK_ERRORS = TopicSpec(
    "wagate.webhook.errors.v1",
    WebhookErrorReported,
    "phone_number_id or WABA id",
    partitions=3,
    retention_ms=30 * DAY_MS,
    doc="Errors Meta reported for a business number, not tied to one message.",
)
WEBHOOKS_UNPARSED = TopicSpec(
    "wagate.webhooks.unparsed.v1",
    WebhookFragmentUnparsed,
    "WABA id",
    partitions=3,
    retention_ms=30 * DAY_MS,
    doc="Webhook fragments ingest did not understand, kept whole for replay.",
)
CONSENT = TopicSpec(
    "wagate.consent.v1",
    ConsentChanged,
    "phone_number_id:wa_id",
    retention_ms=30 * DAY_MS,
    doc="Consent changes wagate learned from sending (131050: marketing stopped).",
)

TEMPLATE_STATES = TopicSpec(
    "wagate.template.states.v1",
    TemplateStateChanged,
    "waba_id:name:language",
    partitions=6,
    compacted=True,
    retention_ms=-1,
    doc="The current state of every template-language and its send-time parameters (compacted).",
)

WINDOWS = TopicSpec(
    "wagate.windows.v1",
    WindowChanged,
    "phone_number_id:wa_id",
    doc="Customer service windows opening, about to close, and closed (policy's timers).",
)
IDENTITIES = TopicSpec(
    "wagate.identities.v1",
    CustomerIdentityChanged,
    "phone_number_id:previous identifier",
    doc="Meta names a customer anew: a number or BSUID change, or a send's answer linking "
    "a phone, a wa_id and a BSUID.",
)
CALLS = TopicSpec(
    "wagate.calls.v1",
    CallReported,
    "phone_number_id:wa_id",
    doc="Calls between a business number and a customer (a customer's call opens the window).",
)
OUTBOUND_ACTIVITY = TopicSpec(
    "wagate.outbound.activity.v1",
    OutboundActivityObserved,
    "phone_number_id:to",
    doc="Messages the number sent without wagate (WhatsApp Business app echoes, Meta's agent): "
    "they use the pair rate and the throughput.",
)
THREAD_CONTROL = TopicSpec(
    "wagate.thread.control.v1",
    ThreadControlChanged,
    "phone_number_id:wa_id",
    doc="Who holds a customer's thread under Conversation Routing (messaging_handovers).",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    WEBHOOKS_RAW,
    INBOUND_MESSAGES,
    INBOUND_MEDIA,
    STATUSES,
    INTENTS,
    DECISIONS,
    DELIVERY,
    DEAD_LETTERS,
    USER_PREFERENCES,
    TEMPLATE_UPDATES,
    TEMPLATE_STATES,
    ACCOUNT_UPDATES,
    WEBHOOK_ERRORS,
    WEBHOOKS_UNPARSED,
    CONSENT,
    WINDOWS,
    IDENTITIES,
    CALLS,
    OUTBOUND_ACTIVITY,
    THREAD_CONTROL,
)
BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in ALL_TOPICS}
