"""The settler's pass over the in-memory ledger, on a clock the test moves: stuck sends become
unknown, unknown ones are said unconfirmed and never sent again (unless the intent opted into a
resend: then queued again or counted as not sent), long-queued intents go back to their sender,
lost updates are published again and old early statuses are forgotten."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from services.dispatch.ledger import Change, LedgerState, NewIntent
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.statuses import Statuses
from shared import codec
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, ReadReceiptContent
from tests.services.dispatch.conftest import Reporting, approved, reported
from tests.services.dispatch.fakes import (
    RecordingScheduler,
)

SETTINGS = DispatchSettings.model_validate(
    {
        "cloud_api": {"connect_timeout_s": 5, "read_timeout_s": 20},
        "settle": {
            "sending_grace_s": 5,
            "unknown_wait_s": 600,
            "requeue_s": 60,
            "report_grace_s": 30,
            "early_status_keep_s": 3600,
            "interval_s": 0.01,
        },
        "retry": {"max_attempts": 3},
    }
)


@dataclass
class Parts(Reporting):
    scheduler: RecordingScheduler
    settler: Settler

    async def intent(
        self, intent_id: str, state: LedgerState, attempts: int = 1, **fields: Any
    ) -> None:
        """An intent now in `state` after `attempts` sends, as its decision left it."""
        decision = codec.encode(approved(intent_id, **fields)).decode()
        new = NewIntent(intent_id, "pn-1", "16505551234", {}, LedgerState.QUEUED, decision)
        await self.ledger.claim(new)
        for _ in range(attempts):
            await self.ledger.record(intent_id, LedgerState.QUEUED)
            await self.ledger.start_attempt(intent_id)
        await self.ledger.record(intent_id, state)

    def settled(self, transition: str) -> float | None:
        return self.sample("wagate_dispatch_settled_total", transition=transition)


def _parts() -> Parts:
    base, scheduler = Reporting.make(), RecordingScheduler()
    statuses = Statuses(base.ledger, base.transitions, base.reporter, base.metrics, base.handback)
    settler = Settler(
        base.ledger, base.transitions, base.reporter, scheduler, base.metrics, SETTINGS,
        SETTINGS.retry.policy(), base.clock, base.handback, apply_kept=statuses.apply_early,
    )  # fmt: skip
    return Parts(**vars(base), scheduler=scheduler, settler=settler)


async def test_statuses_kept_for_a_wamid_recorded_since_are_applied_by_the_next_pass() -> None:
    """A send that recorded its wamid and stopped before taking what was kept for it (the
    process died, the take failed): the settler hands those statuses out, each once."""
    parts = _parts()
    await parts.ledger.keep_status(
        "wamid.A", "sent", codec.encode(reported(None, "wamid.A", "sent")).decode()
    )
    await parts.ledger.keep_status(
        "wamid.A", "delivered", codec.encode(reported(None, "wamid.A", "delivered")).decode()
    )
    await parts.ledger.keep_status(
        "wamid.Z", "sent", codec.encode(reported(None, "wamid.Z", "sent")).decode()
    )
    await parts.intent("i-1", LedgerState.SENDING)
    await parts.ledger.record(
        "i-1", LedgerState.ACCEPTED, expect=LedgerState.SENDING, change=Change(wamid="wamid.A")
    )  # and no take: it stopped here
    for _ in range(2):
        await parts.settler.settle_once()
    assert parts.published.states("i-1") == ["sent", "delivered"]
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "delivered"
    assert set(parts.ledger.early) == {("wamid.Z", "sent")}  # no intent has it: still kept
    assert parts.settled("kept_status_applied") == 1


async def test_a_send_stuck_past_its_timeouts_becomes_unknown() -> None:
    parts = _parts()
    await parts.intent("stuck", LedgerState.SENDING)
    parts.clock.advance(29)  # 5 + 20 + 5 s of grace: not yet
    await parts.settler.settle_once()
    assert parts.published.events == []
    parts.clock.advance(2)
    await parts.settler.settle_once()
    [update] = parts.published.updates("stuck")
    assert (update.state, update.detail) == ("unknown", "no answer recorded for the send")
    assert parts.settled("sending_to_unknown") == 1


async def test_an_unknown_send_is_never_sent_again_but_said_unconfirmed_once() -> None:
    parts = _parts()
    await parts.intent("lost", LedgerState.UNKNOWN)
    parts.clock.advance(599)
    await parts.settler.settle_once()
    [said] = parts.published.updates("lost")  # its own update, never confirmed published
    assert (said.state, said.reasons) == ("unknown", [])  # the wait has not passed
    parts.clock.advance(2)
    for _ in range(3):  # once, however many passes
        await parts.settler.settle_once()
        parts.clock.advance(601)
    _, update = parts.published.updates("lost")
    assert (update.state, update.reasons) == ("unknown", ["OUTCOME_UNCONFIRMED"])
    assert update.event_id != said.event_id
    assert "not sent again" in update.detail
    assert parts.scheduler.submitted == [] and parts.published.dead_letters() == []
    row = await parts.ledger.get("lost")
    assert row is not None and (row.state, row.attempts) == ("unconfirmed", 1)
    assert parts.settled("unknown_to_unconfirmed") == 1
    assert parts.settled("unknown_to_queued") is None


async def test_an_unknown_send_out_of_time_and_attempts_stays_unconfirmed() -> None:
    parts = _parts()
    await parts.intent("spent", LedgerState.UNKNOWN, attempts=3, not_after=parts.clock.now)
    parts.clock.advance(601)
    await parts.settler.settle_once()
    update = parts.published.updates("spent")[-1]
    assert (update.state, update.reasons) == ("unknown", ["OUTCOME_UNCONFIRMED"])
    row = await parts.ledger.get("spent")
    assert row is not None and row.state == "unconfirmed"


@pytest.mark.parametrize(
    "fields",
    [
        {"resend_when_unknown": True},
        # a read receipt said twice only refreshes it: sent again without being asked
        {"content": ReadReceiptContent(message_id="wamid.IN1", typing_indicator=True)},
    ],
)
async def test_an_opted_in_unknown_send_with_time_and_attempts_left_is_queued_again(
    fields: dict[str, Any],
) -> None:
    parts = _parts()
    await parts.intent("lost", LedgerState.UNKNOWN, **fields)
    parts.clock.advance(601)
    await parts.settler.settle_once()
    row = await parts.ledger.get("lost")
    assert row is not None and row.state == "queued" and row.next_attempt_at == parts.clock.now
    assert parts.scheduler.submitted == [("lost", parts.clock.now, None)]
    assert parts.published.events == [] and parts.settled("unknown_to_queued") == 1


async def test_an_opted_in_unknown_send_out_of_attempts_fails_as_not_sent() -> None:
    parts = _parts()
    await parts.intent("spent", LedgerState.UNKNOWN, attempts=3, resend_when_unknown=True)
    await parts.intent(
        "late", LedgerState.UNKNOWN, not_after=parts.clock.now, resend_when_unknown=True
    )
    parts.clock.advance(601)
    await parts.settler.settle_once()
    for intent_id in ("spent", "late"):
        [update] = parts.published.updates(intent_id)
        assert (update.state, update.reasons) == ("failed", ["NOT_SENT"])
        assert update.detail == "no status confirmed the send in time; counted as not sent"
    topics = [t for t, _, _, _ in parts.published.events]
    assert topics == ["wagate.deadletter.v1", "wagate.delivery.v1"] * 2
    assert [h["wagate-reason"] for h in parts.published.dead_letters()] == [
        b"outcome unknown, counted as not sent"
    ] * 2
    assert parts.scheduler.submitted == [] and parts.settled("unknown_to_failed") == 2
    row = await parts.ledger.get("spent")
    assert row is not None and row.state == "not_sent"  # a guess: a real status still wins


async def test_a_hand_back_whose_decision_never_came_is_published_again() -> None:
    parts = _parts()
    await parts.intent("i-1", LedgerState.SENDING)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.decision is not None
    decision = codec.decode(PolicyDecisionMade, row.decision.encode())
    await parts.handback.hand_back(
        decision, row, "APPROVAL_EXPIRED", "lapsed", end_as=LedgerState.EXPIRED
    )
    parts.clock.advance(30)
    await parts.settler.settle_once()
    assert len(parts.published.on("wagate.intents.v1")) == 1  # not yet: it may still come
    parts.clock.advance(31)
    await parts.settler.settle_once()
    first, again = parts.published.on("wagate.intents.v1")
    assert isinstance(first, OutboundIntentSubmitted) and isinstance(again, OutboundIntentSubmitted)
    assert (first.event_id, first.redecision) == (again.event_id, again.redecision)
    assert parts.settled("redecision_again") == 1
    await parts.settler.settle_once()  # once per wait, not once per pass
    assert len(parts.published.on("wagate.intents.v1")) == 2


async def test_intents_queued_for_long_go_back_to_their_sender() -> None:
    parts = _parts()
    await parts.intent("waiting", LedgerState.QUEUED, attempts=0)
    await parts.intent("fresh", LedgerState.QUEUED, attempts=0)
    parts.ledger.age("waiting", 61)
    await parts.settler.settle_once()
    row = await parts.ledger.get("waiting")
    assert row is not None and row.next_attempt_at is None
    assert parts.scheduler.submitted == [("waiting", parts.clock.now, None)]


async def test_an_update_never_confirmed_published_goes_out_again_with_its_event_id() -> None:
    parts = _parts()
    await parts.intent("re", LedgerState.DELIVERED)
    await parts.settler.settle_once()  # within the grace: the first publish may be under way
    assert parts.published.events == []
    parts.clock.advance(31)
    await parts.settler.settle_once()
    await parts.settler.settle_once()
    [update] = parts.published.updates("re")  # marked once out: not again
    assert update.state == "delivered"
    row = await parts.ledger.get("re")
    assert row is not None and row.reported == "delivered"


async def test_an_update_lost_on_its_way_says_the_same_when_published_again() -> None:
    """The ledger moved, then Kafka refused the update (or the process died before it left):
    published again, the update carries its reason and detail, not a bare state."""
    parts = _parts()
    await parts.intent("cut", LedgerState.UNKNOWN)
    parts.clock.advance(601)
    publish = parts.published.publish

    async def refused(*args: Any, **kw: Any) -> None:
        raise KafkaTimeoutError()

    parts.published.publish = refused  # type: ignore[method-assign]
    with pytest.raises(KafkaTimeoutError):
        await parts.settler.settle_once()
    parts.published.publish = publish  # type: ignore[method-assign]
    row = await parts.ledger.get("cut")
    assert row is not None and (row.state, row.reported) == ("unconfirmed", None)
    parts.clock.advance(31)
    await parts.settler.settle_once()
    [update] = [u for u in parts.published.updates("cut") if u.reasons]
    assert (update.state, update.reasons) == ("unknown", ["OUTCOME_UNCONFIRMED"])
    assert "not sent again" in update.detail


async def test_early_statuses_nobody_claimed_are_forgotten_after_a_while() -> None:
    parts = _parts()
    await parts.ledger.keep_status("wamid.OLD", "sent", "{}")
    parts.clock.advance(1800)
    await parts.ledger.keep_status("wamid.NEW", "sent", "{}")
    parts.clock.advance(1801)
    await parts.settler.settle_once()
    assert set(parts.ledger.early) == {("wamid.NEW", "sent")}


async def test_a_lost_ledger_postpones_settling_until_it_is_back() -> None:
    parts = _parts()
    await parts.intent("stuck", LedgerState.SENDING)
    parts.clock.advance(31)
    parts.ledger.unavailable = True
    stop = asyncio.Event()
    running = asyncio.create_task(parts.settler.run(stop))
    await asyncio.sleep(0.05)
    assert not running.done() and parts.published.events == []
    parts.ledger.unavailable = False
    for _ in range(200):
        if parts.published.events:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert parts.published.states("stuck") == ["unknown"]
