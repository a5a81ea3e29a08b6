"""Meta's statuses -> the ledger -> delivery updates. A status finds its intent by the callback
data wagate sent, else by wamid; one that finds none yet (its wamid is not recorded) is kept
and applied once the send's answer records it. A status only ever moves an intent forward
(`outcomes.advance`). Meta's 131047 in a `failed` status of a free-form intent naming a
fallback hands it back to policy (`handback`), and that send's later statuses are ignored."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import ConsumerRecord

from services.dispatch import attempts, outcomes
from services.dispatch.errors import StatusRaced
from services.dispatch.handback import WINDOW_REFUSED, HandBack
from services.dispatch.ledger import Change, Ledger, LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Report, Reporter
from services.dispatch.transitions import Transitions
from shared import codec, logs, tracing
from shared.errors import RetryableError
from shared.events.decisions import PolicyDecisionMade
from shared.events.webhooks import MessageStatusReported

log = logs.get(__name__)
STATUS_TRIES = 5
# Meta's 131047 in a failed status hands the intent back while nothing else reached the customer
HANDED_BACK_FROM = frozenset(
    {LedgerState.SENDING, LedgerState.UNKNOWN, LedgerState.UNCONFIRMED, LedgerState.ACCEPTED}
)


@dataclass(frozen=True)
class Statuses:
    ledger: Ledger
    transitions: Transitions
    reporter: Reporter
    metrics: DispatchMetrics
    handback: HandBack

    async def on_status(
        self, status: MessageStatusReported, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        if not await self._settle(status, by_callback=True):
            # not sent by wagate, or its wamid is not recorded yet: kept for when it is
            await self.ledger.keep_status(
                status.message_id, status.status, codec.encode(status).decode()
            )

    async def apply_early(self, wamid: str | None) -> None:
        """Statuses that came before the wamid was recorded; kept again if they cannot apply."""
        if wamid is None:
            return
        for body in await self.ledger.take_statuses(wamid):
            status = codec.decode(MessageStatusReported, body.encode())
            try:
                applied = await self._settle(status, by_callback=False)
            except RetryableError:
                applied = False
            if not applied:
                await self.ledger.keep_status(wamid, status.status, body)

    async def _settle(self, status: MessageStatusReported, *, by_callback: bool) -> bool:
        """Apply the status to its intent; False when no intent is known for it. A race with
        a send or the settler is resolved by reading the intent again."""
        for _ in range(STATUS_TRIES):
            row = None
            if by_callback and status.biz_opaque_callback_data:
                row = await self.ledger.get(status.biz_opaque_callback_data)
            if row is None:
                row = await self.ledger.by_wamid(status.message_id)
            if row is None:
                return False
            with tracing.resumed(row.decision, "status", intent_id=row.intent_id):
                if await self._apply(status, row):
                    return True
        raise StatusRaced("the intent kept changing while applying a status")

    async def _apply(self, status: MessageStatusReported, row: LedgerRow) -> bool:
        """Move the intent forward by the status; False when the intent changed meanwhile."""
        wamid = status.message_id
        if wamid in row.superseded:
            return True  # a send that policy's fresh decision replaced: it says nothing now
        refused = attempts.refused_window(status.errors) if status.status == "failed" else None
        if refused is not None and row.state in HANDED_BACK_FROM and row.decision is not None:
            decision = codec.decode(PolicyDecisionMade, row.decision.encode())
            if attempts.has_fallback(decision.intent):
                moved = await self.handback.hand_back(
                    decision, row, str(refused.code), WINDOW_REFUSED,
                    end_as=LedgerState.FAILED, errors=status.errors, supersede=wamid,
                )  # fmt: skip
                return moved is not None
        if row.wamid is not None and row.wamid != wamid:
            self.metrics.duplicates.inc()
            log.warning("a second wamid for one intent", intent_id=row.intent_id)
        new_state = outcomes.advance(row.state, status.status)
        if new_state is None:
            if row.reported != row.state and row.state == status.status:
                # a redelivered status whose update never reached Kafka: publish it now
                await self.reporter.update(status, row, row.state, Report(wamid=wamid))
            return True
        change = Change(
            wamid=wamid if row.wamid is None else None,
            error={"errors": [e.model_dump() for e in status.errors]} if status.errors else None,
        )
        report = Report(
            wamid=wamid, errors=status.errors, reasons=[str(e.code) for e in status.errors]
        )
        moved = await self.transitions.move(
            status, row.intent_id, new_state, expect=row.state, change=change, report=report
        )
        if moved is None:
            return False
        if new_state == LedgerState.FAILED and any(
            attempts.stops_marketing(e) for e in status.errors
        ):
            await self.reporter.opted_out(status, moved)
        return True
