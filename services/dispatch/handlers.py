"""Dispatch's I/O shell: decisions -> ledger queue; one attempt -> Cloud API -> ledger ->
delivery updates; status reports -> ledger -> delivery updates."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeAlias

import aiohttp
from aiokafka import ConsumerRecord, TopicPartition

from services.dispatch import attempts, outcomes, payloads
from services.dispatch.attempts import AfterAnswer
from services.dispatch.backpressure import Backpressure
from services.dispatch.cloudapi import CloudApi
from services.dispatch.errors import StatusRaced
from services.dispatch.lanes import Queued
from services.dispatch.ledger import Ledger, LedgerRow, LedgerState, NewIntent
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.retry import RetryPolicy
from services.dispatch.sender import DONE, AttemptResult
from shared import codec, logs
from shared.errors import RetryableError
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.reasons import Reason
from shared.events.webhooks import MessageStatusReported
from shared.sealing import Sealer, SealError, restore

log = logs.get(__name__)
Record: TypeAlias = ConsumerRecord  # of bytes keys and values
STATUS_TRIES = 5


class Scheduler(Protocol):
    def submit(self, phone_number_id: str, item: Queued, due: datetime) -> None: ...


def queued_item(row: LedgerRow, source: object = None) -> Queued:
    return Queued(row.intent_id, row.recipient, row.priority, source)


@dataclass
class Dispatcher:
    ledger: Ledger
    api: CloudApi
    reporter: Reporter
    scheduler: Scheduler
    backpressure: Backpressure
    metrics: DispatchMetrics
    clock: Callable[[], datetime]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    jitter: Callable[[], float] = random.random
    sealer: Sealer | None = None

    async def on_decision(self, decision: PolicyDecisionMade, record: Record) -> None:
        intent = decision.intent
        body = codec.encode(decision).decode()
        new = NewIntent(
            intent.intent_id, intent.phone_number_id, intent.to, intent.metadata,
            LedgerState.QUEUED, body, intent.priority, intent.not_after,
        )  # fmt: skip
        if decision.outcome == "deferred":
            return  # policy holds it and decides again at its release time
        if decision.outcome != "approved":
            row, fresh = await self.ledger.claim(replace(new, state=LedgerState.REJECTED))
            if fresh:
                await self.reporter.update(
                    decision,
                    row,
                    LedgerState.REJECTED,
                    reasons=decision.reasons,
                    detail=decision.detail,
                )
            return
        plan = attempts.before_send(decision, self.clock())
        if plan.intent is None:
            row, fresh = await self.ledger.claim(replace(new, state=LedgerState.EXPIRED))
            if fresh:
                await self.reporter.update(
                    decision, row, LedgerState.EXPIRED, reasons=[plan.reason], detail=plan.detail
                )
            return
        row, _ = await self.ledger.claim(new)
        if row.state != LedgerState.QUEUED:
            log.info("intent already handled", intent_id=intent.intent_id, state=row.state)
            return
        source = TopicPartition(record.topic, record.partition)
        self.backpressure.admitted(source)
        self.scheduler.submit(
            row.phone_number_id, queued_item(row, source), row.next_attempt_at or self.clock()
        )

    async def reload(self, phone_number_id: str, limit: int) -> list[tuple[Queued, float]]:
        """A number's queued intents from the ledger (a held number reopens, or its backlog
        was left in the ledger), with their delays."""
        now = self.clock()
        return [
            (queued_item(row), _seconds(row.next_attempt_at, now))
            for row in await self.ledger.queued(phone_number_id, limit)
        ]

    async def attempt(self, item: Queued) -> AttemptResult:
        """One send of a queued intent, recorded as `sending` before the request leaves."""
        row = await self.ledger.start_attempt(item.intent_id)
        if row is None or row.decision is None:
            return DONE  # another replica took it, or a status settled it
        decision = codec.decode(PolicyDecisionMade, row.decision.encode())
        plan = attempts.before_send(decision, self.clock())
        if plan.intent is None:
            await self._end(decision, row, LedgerState.EXPIRED, [plan.reason], plan.detail)
            return DONE
        try:
            intent = self._unsealed(decision, plan.intent)
        except SealError as exc:
            await self._end(
                decision, row, LedgerState.FAILED, [Reason.SEALED_PARAMETERS_UNREADABLE], str(exc)
            )
            return DONE
        started = time.monotonic()
        try:
            answer = await self.api.send(row.phone_number_id, payloads.build(intent))
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached Meta: never resend blindly; statuses settle it.
            self.metrics.sends.labels(LedgerState.UNKNOWN, "none").inc()
            moved = await self.ledger.record(
                row.intent_id,
                LedgerState.UNKNOWN,
                expect=LedgerState.SENDING,
                error={"details": str(exc)},
            )
            if moved is not None:
                await self.reporter.update(decision, moved, LedgerState.UNKNOWN, detail=f"{exc!r}")
            return AttemptResult("done", answered=False)
        self.metrics.send_seconds.observe(time.monotonic() - started)
        verdict = attempts.after_answer(
            answer.http_status, answer.wamid, answer.error, intent=plan.intent,
            attempt=row.attempts, now=self.clock(), jitter=self.jitter(), policy=self.policy,
        )  # fmt: skip
        self.metrics.sends.labels(verdict.action, verdict.code).inc()
        error = answer.error.model_dump() if answer.error else None
        result = await self._after(decision, row, plan.intent, verdict, answer.wamid, error)
        return result if answer.request_left else replace(result, answered=False)

    def _unsealed(
        self, decision: PolicyDecisionMade, intent: OutboundIntentSubmitted
    ) -> OutboundIntentSubmitted:
        """The intent with the sensitive values policy sealed put back, just for the request
        (the ledger and every event keep them redacted)."""
        content = intent.content
        if (
            decision.sealed is None
            or self.sealer is None
            or not isinstance(content, TemplateContent)
            or content != decision.intent.content  # a fallback has values of its own
        ):
            return intent
        values = self.sealer.unseal(decision.sealed)
        restored = content.model_copy(update={"components": restore(content.components, values)})
        return intent.model_copy(update={"content": restored})

    async def _after(
        self,
        decision: PolicyDecisionMade,
        row: LedgerRow,
        sent: OutboundIntentSubmitted,
        verdict: AfterAnswer,
        wamid: str | None,
        error: dict[str, Any] | None,
    ) -> AttemptResult:
        errors = [MetaError.model_validate(error)] if error else []
        match verdict.action:
            case "accepted":
                moved = await self.ledger.record(
                    row.intent_id, LedgerState.ACCEPTED, expect=LedgerState.SENDING, wamid=wamid
                )
                if moved is not None:
                    await self.reporter.update(decision, moved, LedgerState.ACCEPTED, wamid=wamid)
                await self._apply_early(wamid)
                return DONE
            case "retry":
                assert verdict.retry_at is not None
                await self.ledger.record(
                    row.intent_id, LedgerState.QUEUED, expect=LedgerState.SENDING, error=error,
                    next_attempt_at=verdict.retry_at,
                )  # fmt: skip
                assert verdict.kind is not None
                self.metrics.retries.labels(verdict.kind.value).inc()
                delay = _seconds(verdict.retry_at, self.clock())
                return AttemptResult("retry", delay, verdict.kind)
            case "hold":
                await self.ledger.record(
                    row.intent_id,
                    LedgerState.QUEUED,
                    expect=LedgerState.SENDING,
                    error=error,
                    refund_attempt=True,
                )
                # tell the business it waits (one event id per intent, however often held)
                await self.reporter.update(
                    decision, row, LedgerState.HELD, reasons=[verdict.code], errors=errors,
                    detail="the number cannot send until its credentials or account are "
                    "fixed; the intent waits and is sent then",
                )  # fmt: skip
                return AttemptResult("hold")
            case "fallback":
                fallback = attempts.with_fallback(sent)
                # A template needs no open window: the approval's valid_until no longer applies.
                switched = decision.model_copy(update={"intent": fallback, "valid_until": None})
                await self.ledger.record(
                    row.intent_id, LedgerState.QUEUED, expect=LedgerState.SENDING, error=error,
                    decision=codec.encode(switched).decode(),
                )  # fmt: skip
                return AttemptResult("requeue")
            case "exhausted":
                await self.reporter.dead_letter(decision, row, f"retries exhausted: {verdict.code}")
                await self._end(
                    decision, row, LedgerState.FAILED, [verdict.code, Reason.RETRIES_EXHAUSTED],
                    "retries exhausted", errors,
                )  # fmt: skip
                return DONE
        if verdict.opt_out:  # policy hears of it before the business sees the failure
            await self.reporter.opted_out(decision, row)
        await self._end(decision, row, LedgerState.FAILED, [verdict.code], "", errors)
        return DONE

    async def _end(
        self,
        decision: PolicyDecisionMade,
        row: LedgerRow,
        state: LedgerState,
        reasons: list[str],
        detail: str,
        errors: list[MetaError] | None = None,
    ) -> None:
        moved = await self.ledger.record(row.intent_id, state, expect=row.state)
        if moved is not None:
            await self.reporter.update(
                decision, moved, state, reasons=reasons, detail=detail, errors=errors
            )

    async def on_status(self, status: MessageStatusReported, _: Record) -> None:
        if not await self._settle_status(status, by_callback=True):
            # not sent by wagate, or its wamid is not recorded yet: kept for when it is
            await self.ledger.keep_status(
                status.message_id, status.status, codec.encode(status).decode()
            )

    async def _settle_status(self, status: MessageStatusReported, *, by_callback: bool) -> bool:
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
            if await self._apply(status, row):
                return True
        raise StatusRaced("the intent kept changing while applying a status")

    async def _apply(self, status: MessageStatusReported, row: LedgerRow) -> bool:
        """Move the intent forward by the status; False when the intent changed meanwhile."""
        wamid = status.message_id
        if row.wamid is not None and row.wamid != wamid:
            self.metrics.duplicates.inc()
            log.warning("a second wamid for one intent", intent_id=row.intent_id)
        new_state = outcomes.advance(row.state, status.status)
        if new_state is None:
            if row.reported != row.state and row.state == status.status:
                # a redelivered status whose update never reached Kafka: publish it now
                await self.reporter.update(status, row, row.state, wamid=wamid)
            return True
        moved = await self.ledger.record(
            row.intent_id,
            new_state,
            expect=row.state,
            wamid=wamid if row.wamid is None else None,
            error={"errors": [e.model_dump() for e in status.errors]} if status.errors else None,
        )
        if moved is None:
            return False
        await self.reporter.update(
            status, moved, new_state, wamid=wamid, errors=status.errors,
            reasons=[str(e.code) for e in status.errors],
        )  # fmt: skip
        if new_state == LedgerState.FAILED and any(
            attempts.stops_marketing(e) for e in status.errors
        ):
            await self.reporter.opted_out(status, moved)
        return True

    async def _apply_early(self, wamid: str | None) -> None:
        """Statuses that came before the wamid was recorded; kept again if they cannot apply."""
        if wamid is None:
            return
        for body in await self.ledger.take_statuses(wamid):
            status = codec.decode(MessageStatusReported, body.encode())
            try:
                applied = await self._settle_status(status, by_callback=False)
            except RetryableError:
                applied = False
            if not applied:
                await self.ledger.keep_status(wamid, status.status, body)


def _seconds(at: datetime | None, now: datetime) -> float:
    return 0.0 if at is None else max((at - now).total_seconds(), 0.0)
