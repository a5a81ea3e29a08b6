"""Dispatch's I/O shell for sending: decisions -> the ledger's queue -> their number's sender
(`Decisions`); one attempt of a queued intent -> Cloud API -> ledger -> delivery updates
(`Dispatcher`, the work every number's sender does). Statuses are `statuses.py`'s."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiohttp
from aiokafka import ConsumerRecord, TopicPartition

from services.dispatch import attempts, payloads, routes
from services.dispatch.attempts import AfterAnswer
from services.dispatch.backpressure import Backpressure
from services.dispatch.cloudapi import MessagesApi
from services.dispatch.handback import (
    MARKETING_CAPPED,
    PACED,
    WINDOW_REFUSED,
    HandBack,
    count_of,
    held_detail,
)
from services.dispatch.lanes import Queued
from services.dispatch.ledger import Change, Ledger, LedgerRow, LedgerState, NewIntent
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Report, Reporter
from services.dispatch.retry import RetryPolicy
from services.dispatch.sender import DONE, UNSENT, AttemptResult, Scheduler, queued
from services.dispatch.settings import MarketingRoute
from services.dispatch.statuses import Statuses
from services.dispatch.transitions import Transitions
from shared import codec, logs, tracing
from shared.consuming import Fed, alone, retried
from shared.errors import WagateError
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.reasons import Reason
from shared.sealing import REDACTED, Sealer, SealError, restore, values_of

log = logs.get(__name__)
RECEIPT_DONE = "Meta marked the customer's message read"


@dataclass(frozen=True)
class Decisions:
    """Policy's decisions: refusals and lapsed approvals end here; approvals are queued in the
    ledger and handed to their number's sender."""

    ledger: Ledger
    transitions: Transitions
    scheduler: Scheduler
    backpressure: Backpressure
    clock: Callable[[], datetime]

    async def on_decision(
        self, decision: PolicyDecisionMade, record: ConsumerRecord[bytes, bytes]
    ) -> None:
        intent = decision.intent
        new = _new(decision)
        if intent.redecision is not None and await self._redecided(decision, record):
            return
        if decision.outcome == "deferred":
            return  # policy holds it and decides again at its release time
        if decision.outcome != "approved":
            refused = Report(reasons=decision.reasons, detail=decision.detail)
            await self.transitions.claim(
                decision, replace(new, state=LedgerState.REJECTED), refused
            )
            return
        plan = attempts.before_send(decision, self.clock())
        if plan.intent is None and not plan.hand_back:
            lapsed = Report(reasons=[plan.reason], detail=plan.detail)
            await self.transitions.claim(decision, replace(new, state=LedgerState.EXPIRED), lapsed)
            return
        row, _ = await self.ledger.claim(new)
        self._queued(row, record)

    async def on_decisions(
        self, batch: Sequence[Fed[PolicyDecisionMade]]
    ) -> list[BaseException | None]:
        """A partition's decisions in their order: each run of approvals to queue is claimed
        in one statement and handed to the senders in order; any other decision is handled
        alone where it stands. After an error the loop retries, the rest wait for the retry."""
        outcomes: list[BaseException | None] = []
        for run in self._runs(batch):
            if outcomes and retried(outcomes[-1]):
                outcomes += [outcomes[-1]] * len(run)
            elif run[0][1] is None:
                outcomes.append(await alone(self.on_decision, run[0][0]))
            else:
                outcomes += await self._claim_run(run)
        return outcomes

    def _runs(
        self, batch: Sequence[Fed[PolicyDecisionMade]]
    ) -> list[list[tuple[Fed[PolicyDecisionMade], NewIntent | None]]]:
        """The batch cut into runs of approvals to queue (an intent once in each) and single
        decisions of any other kind (None for their claim)."""
        runs: list[list[tuple[Fed[PolicyDecisionMade], NewIntent | None]]] = []
        ids: set[str] = set()
        for item in batch:
            with item.traced():  # the body keeps the trace of its own record
                new = _new(item.event) if self._plain(item.event) else None
            if new is None or not runs or runs[-1][0][1] is None or new.intent_id in ids:
                runs.append([])
                ids = set()
            runs[-1].append((item, new))
            ids.add(item.event.intent.intent_id)
        return runs

    def _plain(self, decision: PolicyDecisionMade) -> bool:
        """An approval that is queued as it is (what `on_decision` claims `queued`)."""
        if decision.intent.redecision is not None or decision.outcome != "approved":
            return False
        plan = attempts.before_send(decision, self.clock())
        return plan.intent is not None or plan.hand_back

    async def _claim_run(
        self, run: Sequence[tuple[Fed[PolicyDecisionMade], NewIntent | None]]
    ) -> list[BaseException | None]:
        news = [new for _, new in run if new is not None]
        try:
            spans = [item.span for item, _ in run]
            with tracing.together(spans, "claim"):  # one statement for the run's intents
                claimed = await self.ledger.claim_many(news)
        except (WagateError, OSError) as exc:
            if retried(exc):
                return [exc] * len(run)
            outcomes: list[BaseException | None] = []  # a permanent error: find whose, alone
            for item, _ in run:
                stopped = outcomes and retried(outcomes[-1])
                outcomes.append(outcomes[-1] if stopped else await alone(self.on_decision, item))
            return outcomes
        for (item, _), (row, _fresh) in zip(run, claimed, strict=True):
            with item.traced():
                self._queued(row, item.record)
        return [None] * len(run)

    def _queued(self, row: LedgerRow, record: ConsumerRecord[bytes, bytes]) -> None:
        if row.state != LedgerState.QUEUED:
            log.info("intent already handled", intent_id=row.intent_id, state=row.state)
            return
        self._queue(row, record)

    def _queue(self, row: LedgerRow, record: ConsumerRecord[bytes, bytes]) -> None:
        """Hand a queued intent to its sender (which checks the approval before sending)."""
        source = TopicPartition(record.topic, record.partition)
        self.backpressure.admitted(source)
        self.scheduler.submit(row, row.next_attempt_at or self.clock(), source)

    async def _redecided(
        self, decision: PolicyDecisionMade, record: ConsumerRecord[bytes, bytes]
    ) -> bool:
        """Policy's fresh decision on an intent dispatch handed back: it replaces the one the
        intent waited with. False when dispatch has no such intent (then it is decided as
        any other)."""
        intent = decision.intent
        assert intent.redecision is not None
        row = await self.ledger.get(intent.intent_id)
        if row is None:
            return False
        if row.state != LedgerState.REDECIDING or count_of(row) != intent.redecision.count:
            log.info("a re-decision not waited for", intent_id=intent.intent_id, state=row.state)
            return True
        waiting = LedgerState.REDECIDING
        if decision.outcome == "deferred":  # policy releases it later: wait till then
            later = Change(next_attempt_at=decision.valid_until or self.clock())
            await self.ledger.record(intent.intent_id, waiting, expect=waiting, change=later)
        elif decision.outcome != "approved":
            refused = Report(reasons=decision.reasons, detail=decision.detail)
            await self.transitions.move(
                decision, intent.intent_id, LedgerState.REJECTED, expect=waiting, report=refused
            )
        else:
            body = codec.encode(decision).decode()
            change = Change(decision=body, next_attempt_at=self.clock())
            moved = await self.ledger.record(
                intent.intent_id, LedgerState.QUEUED, expect=waiting, change=change
            )
            if moved is not None:
                self._queue(moved, record)
        return True


@dataclass(frozen=True)
class Dispatcher:
    """Sends queued intents to the Cloud API, once each, and records what Meta answered."""

    ledger: Ledger
    api: MessagesApi
    transitions: Transitions
    reporter: Reporter
    statuses: Statuses  # statuses that came before the wamid apply once it is recorded
    metrics: DispatchMetrics
    clock: Callable[[], datetime]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    jitter: Callable[[], float] = random.random
    sealer: Sealer | None = None
    handback: HandBack = field(kw_only=True)
    marketing_route: Callable[[str], MarketingRoute | None] = field(
        kw_only=True, default=lambda _number: None
    )  # where a number's MARKETING templates go (`DispatchSettings.marketing_route`)

    async def reload(self, phone_number_id: str, limit: int) -> list[tuple[Queued, float]]:
        """A number's queued intents from the ledger (a held number reopens, or its backlog
        was left in the ledger), with their delays."""
        now = self.clock()
        return [
            (queued(row), _seconds(row.next_attempt_at, now))
            for row in await self.ledger.queued(phone_number_id, limit)
        ]

    async def attempt(self, item: Queued) -> AttemptResult:
        """One send of a queued intent, recorded as `sending` before the request leaves."""
        row = await self.ledger.start_attempt(item.intent_id)
        if row is None or row.decision is None:
            return DONE  # another replica took it, or a status settled it
        with tracing.resumed(row.decision, "send", intent_id=row.intent_id):
            return await self._attempt(row, row.decision)

    async def _attempt(self, row: LedgerRow, body: str) -> AttemptResult:
        decision = codec.decode(PolicyDecisionMade, body.encode())
        plan = attempts.before_send(decision, self.clock())
        if plan.hand_back:
            await self.handback.hand_back(
                decision, row, plan.reason, plan.detail, end_as=LedgerState.EXPIRED, unsent=True
            )
            return UNSENT
        if plan.intent is None:
            await self._end(decision, row, LedgerState.EXPIRED, [plan.reason], plan.detail)
            return UNSENT
        try:
            intent = self._unsealed(decision, plan.intent)
        except SealError as exc:
            unreadable = [Reason.SEALED_PARAMETERS_UNREADABLE]
            await self._end(decision, row, LedgerState.FAILED, unreadable, str(exc))
            return UNSENT
        started = time.monotonic()
        route = self.marketing_route(row.phone_number_id)
        built = payloads.build(intent, decision.address)
        path, request = routes.request(built, decision.template_category, route)
        try:
            answer = await self.api.send(row.phone_number_id, request, path)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached Meta: never resend blindly; statuses settle it.
            self.metrics.sends.labels(LedgerState.UNKNOWN, "none").inc()
            await self.transitions.move(
                decision, row.intent_id, LedgerState.UNKNOWN, expect=LedgerState.SENDING,
                change=Change(error={"details": str(exc)}), report=Report(detail=f"{exc!r}"),
            )  # fmt: skip
            return AttemptResult("done", answered=False)
        self.metrics.send_seconds.observe(time.monotonic() - started)
        verdict = attempts.after_answer(
            answer.http_status, answer.wamid, answer.error, intent=plan.intent,
            attempt=row.attempts, now=self.clock(), jitter=self.jitter(), policy=self.policy,
            success=answer.success,
            message_status=answer.message_status,
        )  # fmt: skip
        self.metrics.sends.labels(verdict.action, verdict.code).inc()
        error = answer.error.model_dump() if answer.error else None
        result = await self._after(decision, row, plan.intent, verdict, answer.wamid, error)
        if answer.contacts and verdict.action in ("accepted", "paced"):
            await self.reporter.identified(decision, row, answer.contacts, answer.wamid)
        return result if answer.request_left else replace(result, answered=False)

    def _unsealed(
        self, decision: PolicyDecisionMade, intent: OutboundIntentSubmitted
    ) -> OutboundIntentSubmitted:
        """The intent with the sensitive values policy sealed put back, just for the request
        (the ledger and every event keep them redacted)."""
        content = intent.content
        if not isinstance(content, TemplateContent):
            return intent
        values: dict[str, str] = {}
        if decision.sealed is not None and self.sealer is not None:
            values = self.sealer.unseal(decision.sealed)
        components = restore(content.components, values)
        if any(str(value) == REDACTED for value in values_of(components)):
            raise SealError("a redacted value has no sealed value to put back")
        restored = content.model_copy(update={"components": components})
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
            case "accepted" if sent.is_read_receipt:  # done: no wamid, no status follows
                await self.transitions.move(
                    decision, row.intent_id, LedgerState.READ, expect=LedgerState.SENDING,
                    report=Report(detail=RECEIPT_DONE),
                )  # fmt: skip
                return DONE
            case "accepted" | "paced":
                paced = verdict.action == "paced"
                report = (
                    Report(wamid=wamid, reasons=[Reason.PACED], detail=PACED)
                    if paced
                    else (Report(wamid=wamid))
                )
                state = LedgerState.PACED if paced else LedgerState.ACCEPTED
                await self.transitions.move(
                    decision, row.intent_id, state, expect=LedgerState.SENDING,
                    change=Change(wamid=wamid), report=report,
                )  # fmt: skip
                await self.statuses.apply_early(wamid)
                return DONE
            case "retry":
                assert verdict.retry_at is not None
                await self._requeue(row, Change(error=error, next_attempt_at=verdict.retry_at))
                assert verdict.kind is not None
                self.metrics.retries.labels(verdict.kind.value).inc()
                delay = _seconds(verdict.retry_at, self.clock())
                return AttemptResult("retry", delay, verdict.kind)
            case "hold":
                await self._requeue(row, Change(error=error, refund_attempt=True))
                # tell the business it waits (one event id per intent, however often held)
                held = Report(
                    reasons=[verdict.code, *verdict.reasons],
                    errors=errors,
                    detail=held_detail(verdict.scope),
                )
                await self.reporter.update(decision, row, LedgerState.HELD, held)
                return AttemptResult("hold", scope=verdict.scope)
            case "redecide":  # the window is closed, or the customer capped: policy decides
                why = MARKETING_CAPPED if verdict.reasons else WINDOW_REFUSED
                await self.handback.hand_back(
                    decision, row, verdict.code, why, end_as=LedgerState.FAILED, errors=errors,
                )  # fmt: skip
                return DONE
            case "exhausted":
                await self.reporter.dead_letter(decision, row, f"retries exhausted: {verdict.code}")
                await self._end(
                    decision, row, LedgerState.FAILED, [verdict.code, Reason.RETRIES_EXHAUSTED],
                    "retries exhausted", errors,
                )  # fmt: skip
                return DONE
        if verdict.opt_out:  # policy hears of it before the business sees the failure
            await self.reporter.opted_out(decision, row)
        failed = [verdict.code, *verdict.reasons]
        await self._end(decision, row, LedgerState.FAILED, failed, "", errors)
        return DONE

    async def _requeue(self, row: LedgerRow, change: Change) -> None:
        """Back to the queue after an answer that did not end the intent (never reported)."""
        await self.ledger.record(
            row.intent_id, LedgerState.QUEUED, expect=LedgerState.SENDING, change=change
        )

    async def _end(
        self,
        decision: PolicyDecisionMade,
        row: LedgerRow,
        state: LedgerState,
        reasons: Sequence[str],
        detail: str,
        errors: Sequence[MetaError] = (),
    ) -> None:
        report = Report(reasons=reasons, detail=detail, errors=errors)
        await self.transitions.move(decision, row.intent_id, state, expect=row.state, report=report)


def _new(decision: PolicyDecisionMade) -> NewIntent:
    """The ledger row an approval is queued as (or a refusal recorded as, in another state),
    its decision kept with the current trace (a status continues it)."""
    intent = decision.intent
    body = tracing.stamp(codec.encode(decision).decode())
    return NewIntent(
        intent.intent_id, intent.phone_number_id, intent.customer, intent.metadata,
        LedgerState.QUEUED, body, intent.priority, intent.not_after,
    )  # fmt: skip


def _seconds(at: datetime | None, now: datetime) -> float:
    return 0.0 if at is None else max((at - now).total_seconds(), 0.0)
