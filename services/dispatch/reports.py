"""What dispatch tells others: delivery updates (marked in the ledger once Kafka has them),
consent changes and the identifiers Meta's send answers reveal for policy, and intents given up
on, on the dead-letter topic."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, get_args

from pydantic import ValidationError

from services.dispatch.ledger import REPORTED_AS, Ledger, LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from shared import deadletters, logs
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.delivery import DeliveryState, DeliveryUpdated
from shared.events.envelope import Event, deterministic_id, utcnow
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged, is_bsuid
from shared.events.keys import conversation_key, normalize_wa_id
from shared.events.webhooks import MessageStatusReported
from shared.messaging import EventPublisher
from shared.topics import CONSENT, DEAD_LETTERS, DELIVERY, IDENTITIES

log = logs.get(__name__)
PRODUCER = "dispatch"
# the delivery states, as a ledger state is reported (`ledger.REPORTED_AS`)
_STATES: dict[str, DeliveryState] = {s: s for s in get_args(DeliveryState)}


@dataclass(frozen=True)
class Report:
    """What a delivery update says beside the intent's state; `dead_letter`, when given, is
    why the intent also goes to the dead-letter topic, just before its update. It is kept in
    the ledger with the state (`kept`), so that an update published again says the same."""

    wamid: str | None = None  # else the ledger's
    reasons: Sequence[str] = ()
    detail: str = ""
    errors: Sequence[MetaError] = ()
    dead_letter: str | None = None
    pricing: Mapping[str, Any] | None = None  # else the status's that caused it

    def priced(self, cause: Event) -> Report:
        """With the pricing of the status that caused it, if any and none is set."""
        if self.pricing is None and isinstance(cause, MessageStatusReported) and cause.pricing:
            return replace(self, pricing=cause.pricing)
        return self

    def kept(self) -> str:
        """As the ledger keeps it (JSON)."""
        return json.dumps(
            {
                "wamid": self.wamid,
                "reasons": [str(r) for r in self.reasons],
                "detail": self.detail,
                "errors": [e.model_dump(mode="json") for e in self.errors],
                "dead_letter": self.dead_letter,
                "pricing": dict(self.pricing) if self.pricing is not None else None,
            }
        )

    @classmethod
    def from_kept(cls, kept: str | None) -> Report:
        """The report the ledger kept; a bare one for a row kept before reports were."""
        if kept is None:
            return PLAIN
        said = json.loads(kept)
        return cls(
            wamid=said.get("wamid"),
            reasons=tuple(said.get("reasons") or ()),
            detail=said.get("detail") or "",
            errors=tuple(MetaError.model_validate(e) for e in said.get("errors") or ()),
            dead_letter=said.get("dead_letter"),
            pricing=said.get("pricing"),
        )


PLAIN = Report()


def update_id(intent_id: str, state: LedgerState, wamid: str | None) -> str:
    """One event id per intent and state; `accepted` once per wamid, since a fallback that
    policy approved after Meta's 131047 is accepted again, with its own wamid."""
    if state is LedgerState.ACCEPTED and wamid:
        return deterministic_id("delivery", intent_id, state, wamid)
    return deterministic_id("delivery", intent_id, state)


def _caused(cause: Event, event_id: str) -> dict[str, Any]:
    return dict(cause.caused(event_id=event_id))


@dataclass
class Reporter:
    ledger: Ledger
    publisher: EventPublisher
    metrics: DispatchMetrics
    group: str

    async def update(
        self, cause: Event, row: LedgerRow, state: LedgerState, report: Report = PLAIN
    ) -> None:
        """Publish the intent's new state (one event id per intent and state); the ledger
        remembers it was published. Internal states (queued, sending) are not reported."""
        update = delivery(cause, row, state, report)
        if update is None:
            return
        if report.dead_letter is not None:
            await self.dead_letter(cause, row, report.dead_letter)
        await self.publisher.publish(
            DELIVERY, update, key=conversation_key(row.phone_number_id, row.recipient)
        )
        await self.ledger.mark_reported(row.intent_id, state)
        self.metrics.updates.labels(state).inc()

    async def published(self, updates: Sequence[DeliveryUpdated]) -> None:
        """Several updates (`delivery`'s) produced together, every one acknowledged; the
        ledger is told by `marked`."""
        await self.publisher.publish_many(
            [(DELIVERY, u, conversation_key(u.phone_number_id, u.to)) for u in updates]
        )

    async def marked(self, moved: Sequence[tuple[str, LedgerState]]) -> None:
        """The ledger remembers that Kafka has the updates of these (intent, state) moves, in
        one round trip: the last of each intent (a mark of a state left is ignored anyway)."""
        last = dict(moved)
        await self.ledger.mark_reported_many(list(last.items()))
        for _, state in moved:
            self.metrics.updates.labels(state).inc()

    async def again(self, cause: Event, row: LedgerRow, wamid: str | None = None) -> None:
        """The update of the row's state, never confirmed published, published once more: the
        same event id saying what the ledger kept with the state (`wamid` if it kept none)."""
        report = Report.from_kept(row.report)
        if report.wamid is None and wamid is not None:
            report = replace(report, wamid=wamid)
        await self.update(cause, row, row.state, report)

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

    async def identified(
        self,
        decision: Event,
        row: LedgerRow,
        contacts: Sequence[Mapping[str, str]],
        wamid: str | None,
    ) -> None:
        """Meta's answer named the customer it addressed (`contacts[]`: `input`, `wa_id`,
        `user_id`): what it adds to the identifier sent is told to policy, which links them."""
        for position, contact in enumerate(contacts):
            change = sent_identity(contact)
            if change is None:
                continue
            previous, current = change
            event = CustomerIdentityChanged(
                **_caused(decision, deterministic_id("identity", row.intent_id, str(position))),
                producer=PRODUCER,
                phone_number_id=row.phone_number_id,
                change="send_response",
                previous=previous,
                current=current,
                message_id=wamid,
                timestamp=utcnow(),
            )
            await self.publisher.publish(
                IDENTITIES, event, key=conversation_key(row.phone_number_id, row.recipient)
            )

    async def dead_letter(self, decision: Event, row: LedgerRow, reason: str) -> None:
        """The intent's decision on the dead-letter topic, with why and who gave up on it."""
        await self.publisher.publish(
            DEAD_LETTERS,
            decision,
            key=conversation_key(row.phone_number_id, row.recipient),
            headers=deadletters.headers(reason, self.group, intent_id=row.intent_id),
        )


def delivery(
    cause: Event, row: LedgerRow, state: LedgerState, report: Report = PLAIN
) -> DeliveryUpdated | None:
    """The update saying the intent's new state; None for a state business systems never
    hear of (`ledger.INTERNAL`)."""
    said = REPORTED_AS.get(state)
    known = _STATES.get(said) if said is not None else None
    if known is None:
        return None
    wamid = report.wamid or row.wamid
    return DeliveryUpdated(
        **_caused(cause, update_id(row.intent_id, state, wamid)),
        producer=PRODUCER,
        intent_id=row.intent_id,
        phone_number_id=row.phone_number_id,
        to=row.recipient,
        state=known,
        wamid=wamid,
        reasons=list(report.reasons),
        detail=report.detail,
        errors=list(report.errors),
        metadata=row.metadata,
        pricing=dict(priced) if (priced := report.priced(cause).pricing) else None,
    )


def sent_identity(
    contact: Mapping[str, str],
) -> tuple[CustomerIdentity, CustomerIdentity] | None:
    """(who was addressed, who Meta says that is) from one `contacts[]` entry of a send's
    answer; None when the answer adds nothing or is not well formed."""
    sent = contact.get("input", "")
    spelled = normalize_wa_id(sent)
    try:
        previous = (
            CustomerIdentity(user_id=spelled)
            if is_bsuid(spelled)
            else CustomerIdentity(wa_id=spelled)
        )
        current = CustomerIdentity(
            wa_id=contact.get("wa_id") or previous.wa_id,
            user_id=contact.get("user_id") or previous.user_id,
            parent_user_id=contact.get("parent_user_id"),
        )
    except ValidationError:
        log.warning("a send's answer names its customer in an unknown shape")
        return None
    if set(current.identifiers) <= set(previous.identifiers):
        return None
    return previous, current
