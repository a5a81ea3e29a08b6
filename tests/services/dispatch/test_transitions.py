"""Record in the ledger, then report what moved: only a change this replica made is reported,
after it is recorded, and once."""

from __future__ import annotations

from services.dispatch.ledger import Change, LedgerState, NewIntent
from services.dispatch.reports import Report
from services.dispatch.transitions import Transitions
from tests.services.dispatch.conftest import Reporting, approved
from tests.services.dispatch.fakes import InMemoryLedger, RecordingPublisher

DECISION = approved("i-1")


def _transitions() -> tuple[Transitions, InMemoryLedger, RecordingPublisher]:
    base = Reporting.make()
    return base.transitions, base.ledger, base.published


def _new(state: LedgerState) -> NewIntent:
    return NewIntent("i-1", "pn-1", "16505551234", {}, state, '{"x": 1}')


async def test_a_claim_is_reported_when_new_and_never_again() -> None:
    transitions, ledger, published = _transitions()
    refused = Report(reasons=["WINDOW_CLOSED"], detail="closed")
    row, fresh = await transitions.claim(DECISION, _new(LedgerState.REJECTED), refused)
    again, fresh_again = await transitions.claim(DECISION, _new(LedgerState.REJECTED), refused)
    assert fresh and not fresh_again and again.reported == "rejected" and row.reported is None
    [update] = published.updates("i-1")
    assert (update.state, update.reasons, update.detail) == (
        "rejected",
        ["WINDOW_CLOSED"],
        "closed",
    )
    marked = await ledger.get("i-1")
    assert marked is not None and marked.reported == "rejected"


async def test_a_queued_claim_is_recorded_and_not_reported() -> None:
    transitions, ledger, published = _transitions()
    row, fresh = await transitions.claim(DECISION, _new(LedgerState.QUEUED))
    assert fresh and row.state == "queued" and published.events == []
    assert row == await ledger.get("i-1")


async def test_a_move_records_then_reports_with_the_row_it_recorded() -> None:
    transitions, ledger, published = _transitions()
    await ledger.claim(_new(LedgerState.QUEUED))
    await ledger.start_attempt("i-1")
    moved = await transitions.move(
        DECISION,
        "i-1",
        LedgerState.ACCEPTED,
        expect=LedgerState.SENDING,
        report=Report(detail="sent"),
        change=Change(wamid="wamid.A", error={"code": 1}),
    )
    assert moved is not None and moved.state == "accepted" and moved.wamid == "wamid.A"
    assert ledger.last_error["i-1"] == {"code": 1}
    [update] = published.updates("i-1")
    assert (update.state, update.wamid, update.detail) == ("accepted", "wamid.A", "sent")


async def test_a_move_from_a_state_the_intent_left_changes_and_reports_nothing() -> None:
    transitions, ledger, published = _transitions()
    await ledger.claim(_new(LedgerState.QUEUED))
    moved = await transitions.move(DECISION, "i-1", LedgerState.UNKNOWN, expect=LedgerState.SENDING)
    row = await ledger.get("i-1")
    assert moved is None and row is not None and row.state == "queued"
    assert published.events == []
