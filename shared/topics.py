"""The topic registry: every topic wagate uses, its model, key, partitions and retention.

Topic names carry their major version. Topics keyed by conversation (business number and
customer) share one partition count so policy's tables stay co-partitioned with their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.intents import OutboundIntentSubmitted
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported, WebhookReceived

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

ALL_TOPICS: tuple[TopicSpec, ...] = (
    WEBHOOKS_RAW,
    INBOUND_MESSAGES,
    STATUSES,
    INTENTS,
    DECISIONS,
    DELIVERY,
    DEAD_LETTERS,
)
BY_NAME: dict[str, TopicSpec] = {spec.name: spec for spec in ALL_TOPICS}
