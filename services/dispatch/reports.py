"""What dispatch tells others: delivery updates (marked in the ledger once Kafka has them),
consent changes for policy, and exhausted intents on the dead-letter topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, get_args

from services.dispatch.ledger import Ledger, LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.delivery import DeliveryState, DeliveryUpdated
from shared.events.envelope import Event, deterministic_id
from shared.events.keys import conversation_key, normalize_wa_id
from shared.events.webhooks import MessageStatusReported
from shared.topics import CONSENT, DEAD_LETTERS, DELIVERY, TopicSpec

PRODUCER = "dispatch"
# the ledger states that business systems hear of (queued and sending stay internal)
_STATES: dict[str, DeliveryState] = {s: s for s in get_args(DeliveryState)}


class Publishing(Protocol):
    """The port to Kafka (shared.messaging.Publisher): returns once the event is acknowledged."""

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None: ...


def _caused(cause: Event, event_id: str) -> dict[str, Any]:
    return dict(cause.caused(event_id=event_id))


@dataclass
class Reporter:
    ledger: Ledger
    publisher: Publishing
    metrics: DispatchMetrics
    group: str

    async def update(
        self,
        cause: Event,
        row: LedgerRow,
        state: LedgerState,
        *,
        wamid: str | None = None,
        reasons: list[str] | None = None,
        detail: str = "",
        errors: list[MetaError] | None = None,
    ) -> None:
        """Publish the intent's new state; the ledger remembers it was published."""
        known = _STATES.get(state)
        if known is None:
            return  # internal states (queued, sending) are not reported
        update = DeliveryUpdated(
            **_caused(cause, deterministic_id("delivery", row.intent_id, state)),
            producer=PRODUCER,
            intent_id=row.intent_id,
            phone_number_id=row.phone_number_id,
            to=row.recipient,
            state=known,
            wamid=wamid or row.wamid,
            reasons=reasons or [],
            detail=detail,
            errors=errors or [],
            metadata=row.metadata,
            pricing=cause.pricing if isinstance(cause, MessageStatusReported) else None,
        )
        await self.publisher.publish(
            DELIVERY, update, key=conversation_key(row.phone_number_id, row.recipient)
        )
        await self.ledger.mark_reported(row.intent_id, state)
        self.metrics.updates.labels(state).inc()

    async def opted_out(self, cause: Event, row: LedgerRow) -> None:
        """Meta refused marketing to this customer (131050): tell policy."""
        customer = normalize_wa_id(row.recipient)
        event = ConsentChanged(
            **_caused(cause, deterministic_id("consent", row.intent_id, "131050")),
            producer=PRODUCER,
            customer=customer,
            phone_number_id=row.phone_number_id,
            category="marketing",
            opted_in=False,
            source="send_error:131050",
            intent_id=row.intent_id,
        )
        await self.publisher.publish(
            CONSENT, event, key=conversation_key(row.phone_number_id, customer)
        )

    async def dead_letter(self, decision: Event, row: LedgerRow, reason: str) -> None:
        headers = [
            ("wagate-reason", reason[:1000].encode()),
            ("wagate-intent-id", row.intent_id.encode()),
            ("wagate-consumer-group", self.group.encode()),
        ]
        await self.publisher.publish(
            DEAD_LETTERS,
            decision,
            key=conversation_key(row.phone_number_id, row.recipient),
            headers=headers,
        )
