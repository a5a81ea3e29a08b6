"""Decisions into the ledger's queue, and one attempt of a queued intent against a scripted
Cloud API client: what the ledger records, what is reported and what the sender is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiokafka import ConsumerRecord, TopicPartition

from services.dispatch.backpressure import Backpressure
from services.dispatch.cloudapi import SendOutcome
from services.dispatch.handlers import Decisions, Dispatcher
from services.dispatch.ledger import Change, LedgerState
from services.dispatch.retry import RetryPolicy
from services.dispatch.sender import DONE, UNSENT, AttemptResult, queued
from services.dispatch.statuses import Statuses
from shared import codec
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, Redecision, TemplateContent
from shared.meta_errors import NO_RESPONSE, Pace
from shared.sealing import Sealer
from tests.conftest import SEALING_KEY
from tests.services.dispatch.conftest import Reporting, approved, reported
from tests.services.dispatch.fakes import (
    FakeConsumer,
    RecordingScheduler,
    ScriptedApi,
)

POLICY = RetryPolicy(base_s=1.0, cap_s=60.0, max_attempts=3)
PARTITION = TopicPartition("decisions", 2)
RECORD: ConsumerRecord[bytes, bytes] = ConsumerRecord(
    "decisions", 2, 0, 0, 0, None, b"", None, 0, 0, ()
)
FALLBACK = TemplateContent(name="order_update", language="en_US")


@dataclass
class Parts(Reporting):
    api: ScriptedApi
    scheduler: RecordingScheduler
    backpressure: Backpressure
    decisions: Decisions
    dispatcher: Dispatcher

    async def decide_and_attempt(self, decision: PolicyDecisionMade) -> AttemptResult:
        await self.decisions.on_decision(decision, RECORD)
        row = await self.ledger.get(decision.intent.intent_id)
        assert row is not None
        return await self.dispatcher.attempt(queued(row))

    def sends(self, outcome: str, code: str) -> float | None:
        return self.sample("wagate_dispatch_sends_total", outcome=outcome, code=code)


def _parts() -> Parts:
    base = Reporting.make()
    api, scheduler = ScriptedApi(), RecordingScheduler()
    ledger, transitions, reporter, metrics = (
        base.ledger,
        base.transitions,
        base.reporter,
        base.metrics,
    )
    statuses = Statuses(ledger, transitions, reporter, metrics, base.handback)
    backpressure = Backpressure(FakeConsumer(), 10, 5, metrics.paused)
    dispatcher = Dispatcher(
        ledger, api, transitions, reporter, statuses, metrics, base.clock, POLICY, lambda: 0.5,
        Sealer([SEALING_KEY]), handback=base.handback,
    )  # fmt: skip
    decisions = Decisions(ledger, transitions, scheduler, backpressure, base.clock)
    return Parts(
        **vars(base), api=api, scheduler=scheduler, backpressure=backpressure,
        decisions=decisions, dispatcher=dispatcher,
    )  # fmt: skip


def _error(code: int, http_status: int = 400) -> SendOutcome:
    return SendOutcome(http_status, error=MetaError(code=code, details=f"code {code}"))


async def test_an_approved_decision_is_queued_and_handed_to_its_sender() -> None:
    parts = _parts()
    decision = approved("i-1", priority="reply")
    await parts.decisions.on_decision(decision, RECORD)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "queued" and row.priority == "reply"
    assert row.decision is not None
    assert codec.decode(PolicyDecisionMade, row.decision.encode()) == decision
    assert parts.scheduler.submitted == [("i-1", parts.clock.now, PARTITION)]
    assert parts.backpressure.backlog(PARTITION) == 1 and parts.published.events == []


async def test_a_decision_already_sent_is_not_handed_over_again() -> None:
    parts = _parts()
    await parts.decide_and_attempt(approved("i-1"))
    await parts.decisions.on_decision(approved("i-1"), RECORD)
    assert len(parts.scheduler.submitted) == 1 and parts.api.count("i-1") == 1


async def test_a_refusal_ends_the_intent_with_policys_reasons_once() -> None:
    parts = _parts()
    refused = PolicyDecisionMade(
        intent=approved("i-1").intent, outcome="rejected", reasons=["OPTED_OUT"], detail="no"
    )
    await parts.decisions.on_decision(refused, RECORD)
    await parts.decisions.on_decision(refused, RECORD)
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons, update.detail) == ("rejected", ["OPTED_OUT"], "no")
    assert parts.scheduler.submitted == []


async def test_a_deferred_decision_is_left_to_policy() -> None:
    parts = _parts()
    deferred = PolicyDecisionMade(intent=approved("i-1").intent, outcome="deferred")
    await parts.decisions.on_decision(deferred, RECORD)
    assert parts.ledger.rows == {} and parts.published.events == []


async def test_an_approval_whose_time_is_up_ends_expired_unsent() -> None:
    parts = _parts()
    late = approved("i-1", not_after=parts.clock.now - timedelta(seconds=1))
    await parts.decisions.on_decision(late, RECORD)
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons) == ("expired", ["NOT_AFTER_PASSED"])
    assert parts.scheduler.submitted == [] and parts.api.sent == []


async def test_an_accepted_send_records_the_wamid_and_applies_statuses_that_came_first() -> None:
    parts = _parts()
    await parts.ledger.keep_status("wamid.i-1", "delivered", codec.encode(
        reported(None, "wamid.i-1", "delivered")
    ).decode())  # fmt: skip
    assert await parts.decide_and_attempt(approved("i-1")) == DONE
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "delivered" and row.wamid == "wamid.i-1"
    assert parts.published.states("i-1") == ["accepted", "delivered"]
    assert row.attempts == 1 and parts.sends("accepted", "none") == 1
    [(number, payload)] = parts.api.sent
    assert number == "pn-1" and payload["biz_opaque_callback_data"] == "i-1"


async def test_an_intent_no_longer_queued_is_not_sent() -> None:
    parts = _parts()
    await parts.decide_and_attempt(approved("i-1"))
    row = await parts.ledger.get("i-1")
    assert row is not None
    assert await parts.dispatcher.attempt(queued(row)) == DONE
    assert parts.api.count("i-1") == 1


async def test_no_answer_in_time_leaves_the_outcome_unknown_and_nothing_resent() -> None:
    parts = _parts()
    parts.api.script("i-1", TimeoutError())
    result = await parts.decide_and_attempt(approved("i-1"))
    assert result == AttemptResult("done", answered=False)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "unknown"
    assert parts.ledger.last_error["i-1"] == {"details": ""}
    [update] = parts.published.updates("i-1")
    assert update.state == "unknown" and update.detail == "TimeoutError()"
    assert parts.sends("unknown", "none") == 1


async def test_a_connection_lost_mid_request_is_unknown_too() -> None:
    parts = _parts()
    parts.api.script("i-1", aiohttp.ServerDisconnectedError())
    await parts.decide_and_attempt(approved("i-1"))
    assert parts.published.states("i-1") == ["unknown"]


async def test_throttling_queues_the_intent_again_after_a_backoff() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(130429))
    result = await parts.decide_and_attempt(approved("i-1"))
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "queued" and row.attempts == 1
    # 1 s base, doubled for throttling, jitter 0.5 -> three quarters of it
    assert row.next_attempt_at == parts.clock.now + timedelta(seconds=1.5)
    assert result == AttemptResult("retry", 1.5, Pace.THROTTLED)
    assert parts.published.events == [] and parts.ledger.last_error["i-1"]["code"] == 130429
    assert parts.sample("wagate_dispatch_retries_total", kind="throttled") == 1


async def test_a_request_that_never_left_is_retried_and_says_meta_did_not_answer() -> None:
    parts = _parts()
    parts.api.script("i-1", SendOutcome(NO_RESPONSE, error=MetaError(code=-1), request_left=False))
    result = await parts.decide_and_attempt(approved("i-1"))
    assert result.action == "retry" and not result.answered


async def test_refused_credentials_hold_the_intent_without_counting_the_attempt() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(190, 401))
    result = await parts.decide_and_attempt(approved("i-1"))
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "queued" and row.attempts == 0
    assert result == AttemptResult("hold")
    [update] = parts.published.updates("i-1")
    assert update.state == "held" and update.reasons == ["190"] and update.errors[0].code == 190


def _handed_back(parts: Parts) -> list[OutboundIntentSubmitted]:
    return [
        e for e in parts.published.on("wagate.intents.v1") if isinstance(e, OutboundIntentSubmitted)
    ]


async def test_a_closed_window_at_meta_goes_back_to_policy_never_to_dispatchs_own_fallback() -> (
    None
):
    parts = _parts()
    parts.api.script("i-1", _error(131047))
    window = parts.clock.now + timedelta(minutes=5)
    decision = approved("i-1", fallback_template=FALLBACK, valid_until=window)
    result = await parts.decide_and_attempt(decision)
    assert result == DONE and [p["type"] for _, p in parts.api.sent] == ["text"]
    row = await parts.ledger.get("i-1")
    assert (
        row is not None
        and row.state == "redeciding"
        and row.decision == codec.encode(decision).decode()
    )
    [back] = _handed_back(parts)
    assert back.redecision is not None and (back.redecision.count, back.redecision.reason) == (
        1,
        "131047",
    )
    assert back.content == decision.intent.content and back.fallback_template == FALLBACK
    assert parts.published.events[0][2] == "pn-1:16505551234"  # the conversation's key
    assert parts.published.updates("i-1") == []  # nothing to tell until policy decides


async def test_a_fresh_decision_replaces_the_one_handed_back_and_is_sent_as_approved() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(131047))
    await parts.decide_and_attempt(approved("i-1", fallback_template=FALLBACK))
    [back] = _handed_back(parts)
    fresh = approved("i-1", content=FALLBACK, redecision=back.redecision)
    await parts.decisions.on_decision(fresh, RECORD)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "queued"
    assert await parts.dispatcher.attempt(queued(row)) == DONE
    assert [p["type"] for _, p in parts.api.sent] == ["text", "template"]
    assert parts.published.states("i-1") == ["accepted"]
    await parts.decisions.on_decision(fresh, RECORD)  # redelivered: changes nothing
    assert len(parts.api.sent) == 2


async def test_a_fresh_refusal_ends_the_intent_with_policys_reasons() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(131047))
    await parts.decide_and_attempt(approved("i-1", fallback_template=FALLBACK))
    [back] = _handed_back(parts)
    refusal = PolicyDecisionMade(
        intent=back, outcome="rejected", reasons=["TEMPLATE_PAUSED"], detail="paused"
    )
    stale = refusal.model_copy(
        update={"intent": back.model_copy(update={"redecision": Redecision(count=7, reason="x")})}
    )
    await parts.decisions.on_decision(stale, RECORD)  # not the hand-back it waits for
    assert parts.published.updates("i-1") == []
    await parts.decisions.on_decision(refusal, RECORD)
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons, update.detail) == (
        "rejected",
        ["TEMPLATE_PAUSED"],
        "paused",
    )
    assert len(parts.api.sent) == 1


async def test_a_deferred_fresh_decision_waits_till_its_release() -> None:
    parts = _parts()
    await parts.decide_and_attempt(
        approved("i-1", valid_until=parts.clock.now - timedelta(seconds=1))
    )
    [back] = _handed_back(parts)
    release = parts.clock.now + timedelta(hours=8)
    deferred = PolicyDecisionMade(intent=back, outcome="deferred", valid_until=release)
    await parts.decisions.on_decision(deferred, RECORD)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "redeciding" and row.next_attempt_at == release
    assert parts.published.updates("i-1") == [] and parts.api.sent == []


async def test_an_approval_that_lapsed_in_the_queue_is_decided_again_never_sent() -> None:
    parts = _parts()
    decision = approved("i-1", valid_until=parts.clock.now + timedelta(seconds=10))
    await parts.decisions.on_decision(decision, RECORD)
    parts.clock.advance(3 * 24 * 3600)  # held for days
    row = await parts.ledger.get("i-1")
    assert row is not None
    assert await parts.dispatcher.attempt(queued(row)) == UNSENT
    assert parts.api.sent == []
    [back] = _handed_back(parts)
    assert back.redecision is not None and back.redecision.reason == "APPROVAL_EXPIRED"
    row = await parts.ledger.get("i-1")
    assert row is not None and row.attempts == 0  # nothing was sent: no attempt counted


async def test_an_approval_already_lapsed_on_arrival_is_queued_then_handed_back() -> None:
    parts = _parts()
    await parts.decide_and_attempt(approved("i-1", valid_until=parts.clock.now))
    assert parts.api.sent == [] and len(_handed_back(parts)) == 1


async def test_hand_backs_are_bounded_then_the_intent_expires_with_a_reason() -> None:
    parts = _parts()
    lapsed = parts.clock.now - timedelta(seconds=1)
    decision = approved("i-1", valid_until=lapsed)
    for _ in range(3):
        await parts.decide_and_attempt(decision) if not _handed_back(parts) else None
        row = await parts.ledger.get("i-1")
        assert row is not None and row.state == "redeciding"
        back = _handed_back(parts)[-1]
        await parts.decisions.on_decision(
            approved("i-1", valid_until=lapsed, redecision=back.redecision), RECORD
        )
        row = await parts.ledger.get("i-1")
        assert row is not None and row.state == "queued"
        await parts.dispatcher.attempt(queued(row))
    [update] = parts.published.updates("i-1")
    assert update.state == "expired"
    assert update.reasons == ["APPROVAL_EXPIRED", "REDECISIONS_EXHAUSTED"]
    assert len(_handed_back(parts)) == 3 and parts.api.sent == []


async def test_an_approval_with_no_sealed_intent_cannot_go_back_and_expires() -> None:
    parts = _parts()
    decision = approved("i-1", valid_until=parts.clock.now).model_copy(update={"resubmit": None})
    await parts.decide_and_attempt(decision)
    [update] = parts.published.updates("i-1")
    assert update.state == "expired" and update.reasons == ["APPROVAL_EXPIRED"]
    assert "no intent to hand back" in update.detail and _handed_back(parts) == []


async def test_a_closed_window_without_a_fallback_fails_with_metas_code() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(131047))
    await parts.decide_and_attempt(approved("i-1"))
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons) == ("failed", ["131047"])
    assert update.errors == [MetaError(code=131047, details="code 131047")]


async def test_retries_exhausted_dead_letter_the_decision_and_fail_the_intent() -> None:
    parts = _parts()
    parts.api.script("i-1", *[_error(131000, 500)] * 3)
    decision = approved("i-1")
    await parts.decisions.on_decision(decision, RECORD)
    for _ in range(3):
        row = await parts.ledger.get("i-1")
        assert row is not None
        await parts.dispatcher.attempt(queued(row))
    [update] = parts.published.updates("i-1")
    assert update.reasons == ["131000", "RETRIES_EXHAUSTED"] and update.state == "failed"
    [letter] = parts.published.dead_letters()
    assert letter["wagate-reason"] == b"retries exhausted: 131000"
    assert [t for t, _, _, _ in parts.published.events] == [
        "wagate.deadletter.v1",
        "wagate.delivery.v1",
    ]


async def test_a_marketing_refusal_tells_policy_before_the_business_hears_of_the_failure() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(131050))
    await parts.decide_and_attempt(approved("i-1", priority="marketing"))
    topics = [t for t, _, _, _ in parts.published.events]
    assert topics == ["wagate.consent.v1", "wagate.delivery.v1"]
    assert isinstance(parts.published.events[0][1], ConsentChanged)
    assert parts.published.updates("i-1")[0].reasons == ["131050"]


def _otp(code: str) -> TemplateContent:
    body = {"type": "body", "parameters": [{"type": "text", "text": code, "sensitive": True}]}
    return TemplateContent(name="otp", language="en_US", components=[body])


async def test_sealed_values_go_only_into_the_request_and_unreadable_ones_fail_unsent() -> None:
    parts = _parts()
    token = Sealer([SEALING_KEY]).seal({"0.0.text": "483920"})
    await parts.decide_and_attempt(approved("otp", content=_otp("[redacted]"), sealed=token))
    await parts.decide_and_attempt(approved("bad", content=_otp("[redacted]"), sealed="no"))
    [(_, payload)] = parts.api.sent
    sent = payload["template"]["components"][0]["parameters"][0]
    assert sent == {"type": "text", "text": "483920"}
    row = await parts.ledger.get("otp")
    assert row is not None and row.decision is not None and "483920" not in row.decision
    [update] = parts.published.updates("bad")
    assert update.state == "failed" and update.reasons == ["SEALED_PARAMETERS_UNREADABLE"]


async def test_an_intent_whose_time_ran_out_in_the_queue_expires_unsent() -> None:
    parts = _parts()
    decision = approved("i-1", not_after=parts.clock.now + timedelta(seconds=10))
    await parts.decisions.on_decision(decision, RECORD)
    parts.clock.advance(11)
    row = await parts.ledger.get("i-1")
    assert row is not None
    assert await parts.dispatcher.attempt(queued(row)) == UNSENT
    assert parts.published.states("i-1") == ["expired"] and parts.api.sent == []


async def test_a_numbers_queue_is_read_back_with_each_intents_delay() -> None:
    parts = _parts()
    for intent_id in ("now", "later"):
        await parts.decisions.on_decision(approved(intent_id), RECORD)
    await parts.ledger.record(
        "later",
        LedgerState.QUEUED,
        change=Change(next_attempt_at=parts.clock.now + timedelta(seconds=30)),
    )
    await parts.decisions.on_decision(approved("elsewhere", number="pn-2"), RECORD)
    items = await parts.dispatcher.reload("pn-1", 10)
    assert [(q.intent_id, q.source, delay) for q, delay in items] == [
        ("now", None, 0.0), ("later", None, 30.0),
    ]  # fmt: skip


async def test_no_sensitive_marker_reaches_meta_and_no_redacted_value_is_ever_sent() -> None:
    parts = _parts()
    await parts.decide_and_attempt(approved("marked", content=_otp("483920")))
    await parts.decide_and_attempt(approved("hollow", content=_otp("[redacted]")))
    [(_, payload)] = parts.api.sent
    assert payload["template"]["components"][0]["parameters"][0] == {
        "type": "text",
        "text": "483920",
    }
    [update] = parts.published.updates("hollow")
    assert update.state == "failed" and update.reasons == ["SEALED_PARAMETERS_UNREADABLE"]
