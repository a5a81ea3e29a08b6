"""Handing an intent back to policy: dispatch never chooses what to send instead. When an
approval lapsed before the send, or Meta refused a free-form message as outside the window
(131047, answered at once or in a `failed` status), the intent exactly as submitted (sealed in
the decision by policy) goes back on the intents topic, marked with a `redecision`, and policy
decides it with the state of now. The intent waits `redeciding` in the ledger until that
decision comes; a bounded count keeps it from going round for ever."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.dispatch.ledger import Change, Ledger, LedgerRow, LedgerState
from services.dispatch.reports import Report
from services.dispatch.transitions import Transitions
from shared import codec, logs
from shared.errors import DecodeError
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import deterministic_id
from shared.events.intents import OutboundIntentSubmitted, Redecision
from shared.events.keys import conversation_key
from shared.events.reasons import Reason
from shared.messaging import EventPublisher
from shared.sealing import Sealer, SealError
from shared.topics import INTENTS

log = logs.get(__name__)
PRODUCER = "dispatch"
WINDOW_REFUSED = "Meta refused the free-form message: the customer service window is closed"


def count_of(row: LedgerRow) -> int:
    """How many times the intent was handed back so far."""
    return Redecision.model_validate_json(row.redecision).count if row.redecision else 0


@dataclass(frozen=True)
class HandBack:
    ledger: Ledger
    transitions: Transitions
    publisher: EventPublisher
    sealer: Sealer
    limit: int  # hand-backs allowed per intent
    clock: Callable[[], datetime]

    async def hand_back(
        self,
        decision: PolicyDecisionMade,
        row: LedgerRow,
        reason: str,
        detail: str,
        *,
        end_as: LedgerState,
        errors: Sequence[MetaError] = (),
        supersede: str | None = None,
        unsent: bool = False,
    ) -> LedgerRow | None:
        """Hand the intent (now in `row.state`) back to policy, or end it as `end_as` when it
        cannot go back (no sealed intent, or handed back `limit` times already); None when the
        intent moved meanwhile. `unsent`: the attempt just counted sent nothing (refunded)."""
        count = count_of(row) + 1
        original = self._original(decision)
        if original is None or count > self.limit:
            reasons = [reason] if original is None else [reason, Reason.REDECISIONS_EXHAUSTED]
            why = (
                "the decision carries no intent to hand back"
                if original is None
                else f"already decided again {count - 1} times"
            )
            report = Report(reasons=reasons, detail=f"{detail}; {why}", errors=errors)
            return await self.transitions.move(
                decision, row.intent_id, end_as, expect=row.state, report=report
            )
        redecision = Redecision(count=count, reason=reason, detail=detail)
        change = Change(
            redecision=redecision.model_dump_json(),
            supersede=supersede,
            next_attempt_at=self.clock(),
            refund_attempt=unsent,
        )
        moved = await self.ledger.record(
            row.intent_id, LedgerState.REDECIDING, expect=row.state, change=change
        )
        if moved is not None:
            await self._publish(decision, original, redecision)
            log.info("handed back to policy", intent_id=row.intent_id, reason=reason, count=count)
        return moved

    async def again(self, row: LedgerRow) -> None:
        """Publish a hand-back once more (its decision never came: the first may be lost)."""
        assert row.decision is not None and row.redecision is not None
        decision = codec.decode(PolicyDecisionMade, row.decision.encode())
        original = self._original(decision)
        if original is not None:
            await self._publish(decision, original, Redecision.model_validate_json(row.redecision))

    def _original(self, decision: PolicyDecisionMade) -> OutboundIntentSubmitted | None:
        if decision.resubmit is None:
            return None
        try:
            raw = self.sealer.unseal(decision.resubmit)["intent"]
            return codec.decode(OutboundIntentSubmitted, raw.encode())
        except (SealError, DecodeError, KeyError) as exc:
            log.warning("the sealed intent cannot be read", reason=str(exc))
            return None

    async def _publish(
        self,
        decision: PolicyDecisionMade,
        original: OutboundIntentSubmitted,
        redecision: Redecision,
    ) -> None:
        intent_id = original.intent_id
        event_id = deterministic_id("redecision", intent_id, str(redecision.count))
        intent = original.model_copy(
            update={
                **decision.caused(event_id=event_id),
                "producer": PRODUCER,
                "occurred_at": self.clock(),
                "redecision": redecision,
            }
        )
        key = conversation_key(intent.phone_number_id, intent.customer)
        await self.publisher.publish(INTENTS, intent, key=key)
