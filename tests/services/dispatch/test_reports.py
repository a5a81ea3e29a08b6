"""What dispatch tells others: delivery updates (and the ledger marked once they are out),
consent changes for policy, and dead letters with the shared headers."""

from __future__ import annotations

from services.dispatch.ledger import Change, LedgerRow, LedgerState, NewIntent
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Report, Reporter
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.delivery import DeliveryUpdated
from shared.metrics import new_registry
from tests.services.dispatch.conftest import approved, reported
from tests.services.dispatch.fakes import InMemoryLedger, RecordingPublisher


def _reporter() -> tuple[Reporter, InMemoryLedger, RecordingPublisher]:
    ledger, published = InMemoryLedger(), RecordingPublisher()
    return (
        Reporter(ledger, published, DispatchMetrics(new_registry()), "dispatch-group"),
        ledger,
        published,
    )


async def _row(ledger: InMemoryLedger, state: LedgerState = LedgerState.ACCEPTED) -> LedgerRow:
    await ledger.claim(NewIntent("i-1", "pn-1", "+1 650 555 1234", {"order": "42"}, state))
    row = await ledger.record("i-1", state, change=Change(wamid="wamid.ROW"))
    assert row is not None
    return row


async def test_an_update_says_the_state_and_the_ledger_remembers_it_went_out() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    decision = approved("i-1")
    await reporter.update(decision, row, LedgerState.ACCEPTED, Report(reasons=["R"], detail="d"))
    [(topic, update, key, headers)] = published.events
    assert topic == "wagate.delivery.v1" and key == "pn-1:16505551234" and headers == {}
    assert isinstance(update, DeliveryUpdated)
    assert (update.intent_id, update.state, update.wamid) == ("i-1", "accepted", "wamid.ROW")
    assert (update.reasons, update.detail, update.metadata) == (["R"], "d", {"order": "42"})
    assert update.causation_id == decision.event_id and update.producer == "dispatch"
    assert update.pricing is None
    marked = await ledger.get("i-1")
    assert marked is not None and marked.reported == "accepted"


async def test_the_same_state_of_an_intent_always_has_the_same_event_id() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    await reporter.update(approved("i-1"), row, LedgerState.ACCEPTED)
    await reporter.update(approved("i-1"), row, LedgerState.ACCEPTED)
    await reporter.update(approved("i-1"), row, LedgerState.DELIVERED)
    ids = [u.event_id for u in published.updates("i-1")]
    assert ids[0] == ids[1] != ids[2]


async def test_internal_states_are_never_reported() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger, LedgerState.QUEUED)
    await reporter.update(approved("i-1"), row, LedgerState.QUEUED)
    await reporter.update(approved("i-1"), row, LedgerState.SENDING, Report(dead_letter="no"))
    assert published.events == []
    assert (await ledger.get("i-1")).reported is None  # type: ignore[union-attr]


async def test_a_status_brings_its_wamid_errors_and_pricing() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    status = reported("i-1", "wamid.STATUS", "failed", pricing={"billable": True})
    error = MetaError(code=131026, title="Message undeliverable")
    report = Report(wamid="wamid.STATUS", errors=[error], reasons=["131026"])
    await reporter.update(status, row, LedgerState.FAILED, report)
    [update] = published.updates("i-1")
    assert update.wamid == "wamid.STATUS" and update.errors == [error]
    assert update.pricing == {"billable": True}


async def test_a_report_with_a_dead_letter_sends_the_decision_there_first() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    decision = approved("i-1")
    await reporter.update(decision, row, LedgerState.FAILED, Report(dead_letter="gave up"))
    assert [t for t, _, _, _ in published.events] == ["wagate.deadletter.v1", "wagate.delivery.v1"]
    assert published.events[0][1] == decision
    assert published.dead_letters()[0]["wagate-reason"] == b"gave up"


async def test_a_dead_letter_carries_the_shared_headers_and_the_conversation_key() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    await reporter.dead_letter(approved("i-1"), row, "x" * 2000)
    [(topic, _, key, headers)] = published.events
    assert topic == "wagate.deadletter.v1" and key == "pn-1:16505551234"
    assert headers == {
        "wagate-reason": b"x" * 1000,
        "wagate-intent-id": b"i-1",
        "wagate-consumer-group": b"dispatch-group",
    }


async def test_a_marketing_refusal_tells_policy_the_customer_opted_out() -> None:
    reporter, ledger, published = _reporter()
    row = await _row(ledger)
    await reporter.opted_out(approved("i-1"), row)
    await reporter.opted_out(approved("i-1"), row)
    [first, again] = published.on("wagate.consent.v1")
    assert isinstance(first, ConsentChanged) and first.event_id == again.event_id
    assert (first.customer, first.phone_number_id, first.category) == (
        "16505551234", "pn-1", "marketing",
    )  # fmt: skip
    assert not first.opted_in and first.source == "send_error:131050"
    assert first.intent_id == "i-1" and published.events[0][2] == "pn-1:16505551234"
