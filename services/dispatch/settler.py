"""The settler: a periodic pass over the ledger for what no message will trigger.

A send left in `sending` past its timeouts (the process died mid-request) becomes `unknown`.
A send whose request may have reached Meta is never sent again on its own: an `unknown` send
with no status after the configured wait becomes `unconfirmed` and the business is told so
(a second `unknown` update, reason `OUTCOME_UNCONFIRMED`); a status still settles it, however
late, and only an explicit resend (`Ledger.resend`) sends it again. An intent that opted into
`resend_when_unknown` (a duplicate is harmless) is queued again instead while its time and
attempts allow, else ends `not_sent`. Intents queued for long are handed to their sender again;
a hand-back to policy whose decision never came is published again; updates never confirmed
published are published again (same event ids); statuses kept for a wamid an intent has
recorded since are applied (a send stopped between recording and taking them); old unmatched
statuses are forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.dispatch.attempts import may_resend_unconfirmed
from services.dispatch.handback import HandBack
from services.dispatch.ledger import Change, Ledger, LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Report, Reporter
from services.dispatch.retry import RetryPolicy
from services.dispatch.sender import Scheduler
from services.dispatch.settings import DispatchSettings
from services.dispatch.transitions import Transitions
from shared import codec, logs
from shared.errors import RetryableError
from shared.events.decisions import PolicyDecisionMade
from shared.events.reasons import Reason

log = logs.get(__name__)
UNCONFIRMED = Report(
    reasons=[Reason.OUTCOME_UNCONFIRMED],
    detail="no answer and no status confirmed the send in time; it may have reached the "
    "customer, so it is not sent again unless a resend is asked for",
)
NOT_SENT = Report(
    reasons=[Reason.NOT_SENT],
    detail="no status confirmed the send in time; counted as not sent",
    dead_letter="outcome unknown, counted as not sent",
)


@dataclass
class Settler:
    ledger: Ledger
    transitions: Transitions
    reporter: Reporter
    scheduler: Scheduler
    metrics: DispatchMetrics
    settings: DispatchSettings
    policy: RetryPolicy
    clock: Callable[[], datetime]
    handback: HandBack
    apply_kept: Callable[[str], Awaitable[int]] | None = None  # `Statuses.apply_early`

    @property
    def sending_grace(self) -> timedelta:
        api = self.settings.cloud_api
        grace = self.settings.settle.sending_grace_s
        return timedelta(seconds=api.connect_timeout_s + api.read_timeout_s + grace)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.settle_once()
            except RetryableError as exc:
                log.warning("settling postponed", reason=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.settle.interval_s)

    async def settle_once(self) -> None:
        now = self.clock()
        settle = self.settings.settle
        for row in await self.ledger.stale(LedgerState.SENDING, now - self.sending_grace):
            moved = await self.transitions.move(
                _decision(row), row.intent_id, LedgerState.UNKNOWN, expect=LedgerState.SENDING,
                report=Report(detail="no answer recorded for the send"),
            )  # fmt: skip
            if moved is not None:
                self.metrics.settled.labels("sending_to_unknown").inc()
        wait = timedelta(seconds=settle.unknown_wait_s)
        for row in await self.ledger.stale(LedgerState.UNKNOWN, now - wait):
            await self._unconfirmed(row, now)
        requeue = now - timedelta(seconds=settle.requeue_s)
        for row in await self.ledger.stale(LedgerState.QUEUED, requeue):
            # A safety net: the sender already holding it ignores it; a held number drops it.
            self.scheduler.submit(row, row.next_attempt_at or now)
        redecide = now - timedelta(seconds=settle.redecide_wait_s)
        for row in await self.ledger.stale(LedgerState.REDECIDING, redecide):
            await self._redecide_again(row, now, redecide)
        for row in await self.ledger.unreported(now - timedelta(seconds=settle.report_grace_s)):
            await self.reporter.again(_decision(row), row)
        if self.apply_kept is not None:
            for wamid in await self.ledger.recorded_kept():
                if await self.apply_kept(wamid):  # its intent moved on (or said the same)
                    self.metrics.settled.labels("kept_status_applied").inc()
        await self.ledger.forget_statuses(now - timedelta(seconds=settle.early_status_keep_s))

    async def _unconfirmed(self, row: LedgerRow, now: datetime) -> None:
        """An unknown send past the wait: said unconfirmed, never resent, unless the intent
        opted into a resend (queued again while it may, else counted not sent)."""
        decision = _decision(row)
        intent = decision.intent  # a read receipt said twice only refreshes it: harmless
        if not (intent.resend_when_unknown or intent.is_read_receipt):
            await self._end_unknown(decision, row, LedgerState.UNCONFIRMED, UNCONFIRMED)
            return
        if may_resend_unconfirmed(decision.intent, row.attempts, now, self.policy):
            moved = await self.ledger.record(
                row.intent_id, LedgerState.QUEUED, expect=LedgerState.UNKNOWN,
                change=Change(next_attempt_at=now),
            )  # fmt: skip
            if moved is not None:
                self.metrics.settled.labels("unknown_to_queued").inc()
                self.scheduler.submit(moved, now)
            return
        await self._end_unknown(decision, row, LedgerState.NOT_SENT, NOT_SENT)

    async def _end_unknown(
        self, decision: PolicyDecisionMade, row: LedgerRow, state: LedgerState, report: Report
    ) -> None:
        moved = await self.transitions.move(
            decision, row.intent_id, state, expect=LedgerState.UNKNOWN, report=report
        )
        if moved is not None:
            label = "failed" if state is LedgerState.NOT_SENT else state.value
            self.metrics.settled.labels(f"unknown_to_{label}").inc()

    async def _redecide_again(self, row: LedgerRow, now: datetime, before: datetime) -> None:
        """A hand-back whose decision never came (a deferred one waits till its release)."""
        if row.next_attempt_at is not None and row.next_attempt_at > before:
            return
        again = await self.ledger.record(
            row.intent_id, LedgerState.REDECIDING, expect=LedgerState.REDECIDING,
            change=Change(next_attempt_at=now),
        )  # fmt: skip
        if again is not None:
            await self.handback.again(again)
            self.metrics.settled.labels("redecision_again").inc()


def _decision(row: LedgerRow) -> PolicyDecisionMade:
    assert row.decision is not None, "every ledger row keeps its decision"
    return codec.decode(PolicyDecisionMade, row.decision.encode())
