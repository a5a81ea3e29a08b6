"""Meta's statuses against the in-memory ledger: found by callback data or wamid, kept until
their wamid is known, only ever moving an intent forward, and each update published once; a
partition's statuses together, different messages side by side and each message's in order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from services.dispatch.errors import LedgerUnavailable, StatusRaced
from services.dispatch.ledger import Change, LedgerRow, LedgerState, NewIntent
from services.dispatch.statuses import AT_ONCE, STATUS_TRIES, Statuses, in_turn
from shared import codec
from shared.consuming import Fed
from shared.events.common import MetaError
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.webhooks import MessageStatusReported
from tests.services.dispatch.conftest import Reporting, approved, reported
from tests.services.dispatch.fakes import InMemoryLedger

FALLBACK = TemplateContent(name="order_update", language="en_US")


@dataclass
class Parts(Reporting):
    statuses: Statuses


def _parts(ledger: InMemoryLedger | None = None) -> Parts:
    base = Reporting.make(ledger)
    statuses = Statuses(base.ledger, base.transitions, base.reporter, base.metrics, base.handback)
    return Parts(**vars(base), statuses=statuses)


async def _accepted(
    ledger: InMemoryLedger, intent_id: str = "i-1", wamid: str | None = "wamid.A"
) -> None:
    await ledger.claim(NewIntent(intent_id, "pn-1", "16505551234", {}, LedgerState.QUEUED, "{}"))
    await ledger.start_attempt(intent_id)
    state = LedgerState.ACCEPTED if wamid else LedgerState.UNKNOWN
    await ledger.record(intent_id, state, expect=LedgerState.SENDING, change=Change(wamid=wamid))


async def test_a_status_with_its_callback_data_moves_the_intent_and_is_reported() -> None:
    parts = _parts()
    await _accepted(parts.ledger, wamid=None)  # the send's answer never came
    status = reported("i-1", "wamid.LATE", "delivered", pricing={"category": "utility"})
    await parts.statuses.on_status(status, None)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "delivered" and row.wamid == "wamid.LATE"
    [update] = parts.published.updates("i-1")
    assert (update.state, update.wamid, update.pricing) == (
        "delivered", "wamid.LATE", {"category": "utility"},
    )  # fmt: skip
    assert update.causation_id == status.event_id and row.reported == "delivered"


async def test_a_status_without_callback_data_is_found_by_its_wamid() -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    await parts.statuses.on_status(reported(None, "wamid.A", "read"), None)
    assert parts.published.states("i-1") == ["read"]


async def test_a_status_of_an_unknown_wamid_is_kept_and_applied_once_it_is_recorded() -> None:
    parts = _parts()
    await parts.statuses.on_status(reported(None, "wamid.A", "sent"), None)
    await parts.statuses.on_status(reported(None, "wamid.A", "delivered"), None)
    assert set(parts.ledger.early) == {("wamid.A", "sent"), ("wamid.A", "delivered")}
    await _accepted(parts.ledger)
    await parts.statuses.apply_early("wamid.A")
    assert parts.ledger.early == {}
    assert parts.published.states("i-1") == ["sent", "delivered"]
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "delivered"


async def test_early_statuses_that_still_find_no_intent_are_kept_again() -> None:
    parts = _parts()
    await parts.statuses.on_status(reported(None, "wamid.Z", "sent"), None)
    await parts.statuses.apply_early("wamid.Z")  # no intent has that wamid
    assert set(parts.ledger.early) == {("wamid.Z", "sent")}
    await parts.statuses.apply_early(None)  # an answer without a wamid applies nothing
    assert parts.published.events == []


@pytest.mark.parametrize("later", ["sent", "delivered", "accepted", "failed"])
async def test_a_status_never_moves_an_intent_back_or_out_of_read(later: str) -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "read"), None)
    await parts.statuses.on_status(reported("i-1", "wamid.A", later), None)
    assert parts.published.states("i-1") == ["read"]


async def test_a_failed_status_reports_metas_codes_and_a_marketing_refusal_tells_policy() -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    errors = [MetaError(code=131050, title="User stopped marketing messages")]
    status = reported("i-1", "wamid.A", "failed", errors=errors)
    await parts.statuses.on_status(status, None)
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons, update.errors) == ("failed", ["131050"], errors)
    assert [t for t, _, _, _ in parts.published.events] == [
        "wagate.delivery.v1", "wagate.consent.v1",
    ]  # fmt: skip
    assert parts.ledger.last_error["i-1"] == {"errors": [errors[0].model_dump()]}


async def test_a_redelivered_status_publishes_an_update_kafka_never_had() -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    await parts.ledger.record("i-1", LedgerState.DELIVERED)  # recorded; the publish failed
    await parts.statuses.on_status(reported("i-1", "wamid.A", "delivered"), None)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "delivered"), None)
    assert parts.published.states("i-1") == ["delivered"]
    row = await parts.ledger.get("i-1")
    assert row is not None and row.reported == "delivered"


async def test_a_second_wamid_for_one_intent_is_counted_and_the_first_kept() -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    await parts.statuses.on_status(reported("i-1", "wamid.OTHER", "sent"), None)
    assert parts.sample("wagate_dispatch_duplicate_wamids_total") == 1
    row = await parts.ledger.get("i-1")
    assert row is not None and row.wamid == "wamid.A" and row.state == "sent"
    [update] = parts.published.updates("i-1")
    assert update.wamid == "wamid.OTHER"  # the update names the wamid the status is about


class _SendInBetween(InMemoryLedger):
    """The send's answer is recorded, and its kept statuses taken, just before a status that
    had found no intent is kept: the status's search and its keeping straddle the send."""

    send: Any = None

    async def keep_status(self, wamid: str, status: str, event: str) -> None:
        send, self.send = self.send, None
        if send is not None:
            await send()
        await super().keep_status(wamid, status, event)


async def test_a_status_kept_just_after_its_send_took_the_kept_ones_is_still_applied() -> None:
    ledger = _SendInBetween()
    parts = _parts(ledger)

    async def send() -> None:
        await _accepted(ledger)
        await parts.statuses.apply_early("wamid.A")  # what the send does once recorded

    ledger.send = send
    await parts.statuses.on_status(reported(None, "wamid.A", "delivered"), None)
    assert ledger.early == {}
    assert parts.published.states("i-1") == ["delivered"]
    row = await ledger.get("i-1")
    assert row is not None and row.state == "delivered" and row.reported == "delivered"


async def test_a_status_of_a_wamid_still_unknown_once_kept_stays_kept_and_applies_once() -> None:
    parts = _parts()
    await parts.statuses.on_status(reported(None, "wamid.A", "sent"), None)
    assert set(parts.ledger.early) == {("wamid.A", "sent")}  # the search again found nothing
    await _accepted(parts.ledger)
    await parts.statuses.apply_early("wamid.A")
    await parts.statuses.apply_early("wamid.A")  # a second take finds nothing left
    assert parts.published.states("i-1") == ["sent"]


class _MovingLedger(InMemoryLedger):
    """Once `moving`, the intent has changed each time a status tries to move it."""

    moving = False

    async def record(self, intent_id: str, state: LedgerState, **change: Any) -> LedgerRow | None:
        return None if self.moving else await super().record(intent_id, state, **change)


async def test_an_intent_that_keeps_changing_is_retried_by_the_consume_loop() -> None:
    ledger = _MovingLedger()
    parts = _parts(ledger)
    await _accepted(ledger)
    ledger.moving = True
    with pytest.raises(StatusRaced):
        await parts.statuses.on_status(reported("i-1", "wamid.A", "delivered"), None)
    assert parts.published.events == [] and STATUS_TRIES > 1


async def _free_form_accepted(parts: Parts, **fields: Any) -> None:
    decision = codec.encode(approved("i-1", **fields)).decode()
    new = NewIntent("i-1", "pn-1", "16505551234", {}, LedgerState.QUEUED, decision)
    await parts.ledger.claim(new)
    await parts.ledger.start_attempt("i-1")
    await parts.ledger.record(
        "i-1", LedgerState.ACCEPTED, expect=LedgerState.SENDING, change=Change(wamid="wamid.A")
    )


REFUSED = [MetaError(code=131047, title="Re-engagement message")]


async def test_131047_in_a_failed_status_hands_a_free_form_intent_with_a_fallback_to_policy() -> (
    None
):
    parts = _parts()
    await _free_form_accepted(parts, fallback_template=FALLBACK)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "failed", errors=REFUSED), None)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "redeciding" and row.superseded == ("wamid.A",)
    [back] = [e for e in parts.published.on("wagate.intents.v1")]
    assert isinstance(back, OutboundIntentSubmitted) and back.redecision is not None
    assert back.redecision.reason == "131047" and back.fallback_template == FALLBACK
    assert parts.published.updates("i-1") == []
    # the refused send's later (duplicated, reordered) statuses say nothing any more
    for state in ("failed", "sent", "delivered"):
        await parts.statuses.on_status(reported("i-1", "wamid.A", state, errors=REFUSED), None)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "redeciding" and parts.published.updates("i-1") == []


async def test_131047_in_a_failed_status_without_a_fallback_fails_with_metas_code() -> None:
    parts = _parts()
    await _free_form_accepted(parts)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "failed", errors=REFUSED), None)
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons) == ("failed", ["131047"])
    assert parts.published.on("wagate.intents.v1") == []


async def test_131047_after_the_message_was_sent_is_a_plain_failure() -> None:
    parts = _parts()
    await _free_form_accepted(parts, fallback_template=FALLBACK)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "sent"), None)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "failed", errors=REFUSED), None)
    assert parts.published.states("i-1") == ["sent", "failed"]
    assert parts.published.on("wagate.intents.v1") == []


async def test_a_delivered_intent_never_turns_failed() -> None:
    parts = _parts()
    await _accepted(parts.ledger)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "delivered"), None)
    await parts.statuses.on_status(reported("i-1", "wamid.A", "failed", errors=REFUSED), None)
    assert parts.published.states("i-1") == ["delivered"]


async def test_a_real_delivery_after_wagates_not_sent_guess_is_published() -> None:
    parts = _parts()
    await _accepted(parts.ledger, wamid=None)
    await parts.ledger.record("i-1", LedgerState.NOT_SENT)  # the settler's guess
    await parts.statuses.on_status(reported("i-1", "wamid.LATE", "sent"), None)
    await parts.statuses.on_status(reported("i-1", "wamid.LATE", "delivered"), None)
    assert parts.published.states("i-1") == ["sent", "delivered"]
    row = await parts.ledger.get("i-1")
    assert row is not None and row.wamid == "wamid.LATE" and row.state == "delivered"


async def test_a_real_status_of_a_send_not_superseded_wins_over_a_hand_back() -> None:
    parts = _parts()
    await _accepted(parts.ledger, wamid=None)  # no answer: the outcome is unknown
    await parts.ledger.record("i-1", LedgerState.REDECIDING)  # lapsed and handed back since
    await parts.statuses.on_status(reported("i-1", "wamid.LATE", "delivered"), None)
    assert parts.published.states("i-1") == ["delivered"]  # it did reach the customer


class _Slow(InMemoryLedger):
    """The in-memory ledger, each read of an intent taking a moment (as PostgreSQL's does);
    counts how many reads are in flight at once, and fails the first reads of `failing`."""

    def __init__(self, failing: str | None = None, fails: int = 0) -> None:
        super().__init__()
        self.in_flight = self.most = 0
        self.failing, self.fails = failing, fails

    async def get(self, intent_id: str) -> LedgerRow | None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if intent_id == self.failing and self.fails > 0:
                self.fails -= 1
                raise LedgerUnavailable("the ledger is not there")
            return await super().get(intent_id)
        finally:
            self.in_flight -= 1


def _fed(statuses: list[MessageStatusReported]) -> list[Fed[MessageStatusReported]]:
    return [
        Fed(status, ConsumerRecord("statuses", 2, n, 0, 0, None, b"", None, 0, 0, ()))
        for n, status in enumerate(statuses)
    ]


async def test_statuses_left_to_one_at_a_time_of_different_messages_go_side_by_side() -> None:
    ledger = _Slow()
    parts = _parts(ledger)
    for n in range(20):
        await _accepted(ledger, f"i-{n}", f"wamid.{n}")
    # a failed status is applied one at a time (it may hand the intent back to policy)
    batch = [reported(f"i-{n}", f"wamid.{n}", "failed") for n in range(20)]
    assert await parts.statuses.on_statuses(_fed(batch)) == [None] * 20
    assert ledger.most == AT_ONCE  # not one after another, and never more than the bound
    assert all(parts.published.states(f"i-{n}") == ["failed"] for n in range(20))


async def test_one_message_s_statuses_in_a_batch_are_applied_in_their_order() -> None:
    ledger = _Slow()
    parts = _parts(ledger)
    await _accepted(ledger, "i-1", "wamid.A")
    await _accepted(ledger, "i-2", "wamid.B")
    batch = [
        reported("i-1", "wamid.A", "sent"), reported("i-2", "wamid.B", "sent"),
        reported("i-1", "wamid.A", "delivered"), reported(None, "wamid.B", "delivered"),
        reported("i-1", "wamid.A", "read"),
    ]  # fmt: skip
    assert await parts.statuses.on_statuses(_fed(batch)) == [None] * 5
    assert parts.published.states("i-1") == ["sent", "delivered", "read"]
    assert parts.published.states("i-2") == ["sent", "delivered"]
    row = await ledger.get("i-1")
    assert row is not None and row.state == "read"


async def test_one_message_s_statuses_left_to_one_at_a_time_go_in_their_order() -> None:
    ledger = _Slow()
    parts = _parts(ledger)
    batch = [reported(None, "wamid.A", s) for s in ("sent", "delivered", "read")]
    assert await parts.statuses.on_statuses(_fed(batch)) == [None] * 3  # no intent yet: kept
    await _accepted(ledger, "i-1", "wamid.A")
    await parts.statuses.apply_early("wamid.A")
    assert parts.published.states("i-1") == ["sent", "delivered", "read"]


async def test_after_a_retryable_error_the_message_s_later_statuses_wait_for_the_retry() -> None:
    ledger = _Slow(failing="i-1", fails=1)
    parts = _parts(ledger)
    await _accepted(ledger, "i-2", "wamid.B")
    batch = [  # i-1 is not recorded yet: its statuses are read again one at a time
        reported("i-1", "wamid.A", "sent"), reported("i-2", "wamid.B", "delivered"),
        reported("i-1", "wamid.A", "delivered"),
    ]  # fmt: skip
    first, other, later = await parts.statuses.on_statuses(_fed(batch))
    assert isinstance(first, LedgerUnavailable) and later is first and other is None
    assert ledger.early == {}  # nothing of it kept out of its order
    assert parts.published.states("i-2") == ["delivered"]


async def test_a_bug_met_by_one_status_is_raised_once_the_others_are_applied() -> None:
    class Broken(_Slow):
        async def get(self, intent_id: str) -> LedgerRow | None:
            if intent_id == "i-1":
                raise RuntimeError("a bug")
            return await super().get(intent_id)

    ledger = Broken()
    parts = _parts(ledger)
    await _accepted(ledger, "i-2", "wamid.B")
    await _accepted(ledger, "i-3", "wamid.C")
    batch = [  # i-1 is not recorded: read again one at a time, where the bug is met
        reported("i-1", "wamid.A", "sent"), reported("i-2", "wamid.B", "delivered"),
        reported("i-3", "wamid.C", "failed"),
    ]  # fmt: skip
    with pytest.raises(RuntimeError, match="a bug"):
        await parts.statuses.on_statuses(_fed(batch))
    assert parts.published.states("i-2") == ["delivered"]
    assert parts.published.states("i-3") == ["failed"]


@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.sampled_from([None, "i-1", "i-2"]))))
def test_statuses_naming_one_message_or_intent_are_grouped_to_go_in_turn(
    named: list[tuple[str, str | None]],
) -> None:
    statuses = [reported(intent, f"wamid.{wamid}", "sent") for wamid, intent in named]
    groups = in_turn(statuses)
    assert sorted(n for group in groups for n in group) == list(range(len(named)))
    assert all(group == sorted(group) for group in groups)
    group_of = {n: g for g, group in enumerate(groups) for n in group}
    for a, (wamid_a, intent_a) in enumerate(named):
        for b, (wamid_b, intent_b) in enumerate(named):
            if wamid_a == wamid_b or (intent_a is not None and intent_a == intent_b):
                assert group_of[a] == group_of[b]
    assert len(groups) == _linked(named)  # no wider than the links make them


def _linked(named: list[tuple[str, str | None]]) -> int:
    """How many sets of statuses linked by a shared wamid or intent, transitively."""
    parent = list(range(len(named)))

    def root(n: int) -> int:
        while parent[n] != n:
            n = parent[n]
        return n

    for a, (wamid_a, intent_a) in enumerate(named):
        for b in range(a):
            wamid_b, intent_b = named[b]
            if wamid_a == wamid_b or (intent_a is not None and intent_a == intent_b):
                parent[root(a)] = root(b)
    return len({root(n) for n in range(len(named))})
