"""The ledger's contract (`ledger.Ledger`), held against both adapters: PostgreSQL
(`store.PostgresLedger`, on a fresh database) and the in-memory fake the unit tests use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.errors import LedgerUnavailable
from services.dispatch.ledger import RESENDABLE, Change, Ledger, LedgerState, NewIntent
from services.dispatch.store import PostgresLedger
from shared import db
from shared.settings import PostgresSettings
from tests.services.dispatch.fakes import InMemoryLedger

QUEUED, SENDING, UNKNOWN = LedgerState.QUEUED, LedgerState.SENDING, LedgerState.UNKNOWN
ACCEPTED, DELIVERED, FAILED = LedgerState.ACCEPTED, LedgerState.DELIVERED, LedgerState.FAILED


@pytest.fixture
async def postgres_ledger(fresh_database: str) -> AsyncIterator[PostgresLedger]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    yield PostgresLedger(pool)
    await pool.close()


@pytest.fixture
def memory_ledger() -> InMemoryLedger:
    return InMemoryLedger()


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    adapter: Ledger = request.getfixturevalue(f"{request.param}_ledger")
    return adapter


async def _cut_off(ledger: Ledger) -> None:
    """Make the ledger unreachable, as a lost database would."""
    if isinstance(ledger, InMemoryLedger):
        ledger.unavailable = True
    else:
        assert isinstance(ledger, PostgresLedger)
        await ledger._pool.close()


def _new(
    intent_id: str,
    state: LedgerState = QUEUED,
    number: str = "pn",
    priority: str = "reply",
) -> NewIntent:
    return NewIntent(intent_id, number, "+1 650", {"order": "42"}, state, '{"x": 1}', priority)


def _later(seconds: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_an_intent_is_claimed_once(ledger: Ledger) -> None:
    row, fresh = await ledger.claim(_new("i-1"))
    assert fresh and row.state == "queued" and row.attempts == 0 and row.priority == "reply"
    again, fresh_again = await ledger.claim(_new("i-1", LedgerState.REJECTED))
    assert not fresh_again and again.state == "queued"


async def test_claims_together_are_each_claimed_once_in_their_order(ledger: Ledger) -> None:
    await ledger.claim(_new("i-2"))
    news = [_new("i-3", priority="marketing"), _new("i-2", LedgerState.REJECTED), _new("i-1")]
    claimed = await ledger.claim_many(news)
    assert [(r.intent_id, r.state, r.priority, fresh) for r, fresh in claimed] == [
        ("i-3", QUEUED, "marketing", True), ("i-2", QUEUED, "reply", False),
        ("i-1", QUEUED, "reply", True),
    ]  # fmt: skip
    assert [r for r, _ in claimed] == [await ledger.get(n.intent_id) for n in news]
    assert await ledger.claim_many([]) == []


async def test_a_claimed_intent_keeps_what_it_was_given_and_is_due_now(ledger: Ledger) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    row, _ = await ledger.claim(_new("i-1"))
    assert (row.phone_number_id, row.recipient, row.metadata) == ("pn", "+1 650", {"order": "42"})
    assert row.decision is not None and row.wamid is None and row.reported is None
    assert row.next_attempt_at is not None and before < row.next_attempt_at < _later()
    assert row == await ledger.get("i-1")
    assert await ledger.get("nobody") is None


async def test_an_attempt_is_started_once_and_counted(ledger: Ledger) -> None:
    await ledger.claim(_new("i-2"))
    started = await ledger.start_attempt("i-2")
    assert started is not None and started.state == "sending" and started.attempts == 1
    assert started.decision is not None and started.metadata == {"order": "42"}
    assert await ledger.start_attempt("i-2") is None  # a second replica gets nothing
    assert await ledger.start_attempt("nobody") is None


async def test_a_retry_queues_again_with_its_time_and_a_hold_refunds_the_attempt(
    ledger: Ledger,
) -> None:
    await ledger.claim(_new("i-3"))
    await ledger.start_attempt("i-3")
    at = datetime.now(UTC) + timedelta(seconds=5)
    row = await ledger.record(
        "i-3", QUEUED, expect=SENDING, change=Change(error={"code": 130429}, next_attempt_at=at)
    )
    assert row is not None and row.next_attempt_at == at
    assert [r.intent_id for r in await ledger.queued("pn")] == ["i-3"]
    assert await ledger.queued("other") == []
    again = await ledger.start_attempt("i-3")
    assert again is not None and again.attempts == 2
    held = await ledger.record("i-3", QUEUED, expect=SENDING, change=Change(refund_attempt=True))
    assert held is not None and held.attempts == 1


@pytest.mark.parametrize("state", sorted(LedgerState))
async def test_a_resend_queues_only_an_intent_that_may_have_reached_meta(
    ledger: Ledger, state: LedgerState
) -> None:
    await ledger.claim(_new("i-r"))
    await ledger.start_attempt("i-r")
    await ledger.record("i-r", state)
    row = await ledger.resend("i-r", "ops")
    if state in RESENDABLE:
        assert row is not None and (row.state, row.attempts) == ("queued", 1)
        assert row.next_attempt_at is not None and row.next_attempt_at < _later()
        assert await ledger.resend("i-r", "ops") is None  # queued: not twice
    else:
        assert row is None
        kept = await ledger.get("i-r")
        assert kept is not None and kept.state == state
    assert await ledger.resend("nobody", "ops") is None


async def test_a_state_change_from_the_wrong_state_is_refused(ledger: Ledger) -> None:
    await ledger.claim(_new("i-4"))
    assert await ledger.record("i-4", ACCEPTED, expect=SENDING) is None
    row = await ledger.get("i-4")
    assert row is not None and row.state == "queued"
    assert await ledger.record("nobody", ACCEPTED) is None


async def test_a_kept_wamid_and_decision_stay_unless_replaced(ledger: Ledger) -> None:
    await ledger.claim(_new("i-k"))
    at = _later(60)
    await ledger.record("i-k", ACCEPTED, change=Change(wamid="wamid.K", next_attempt_at=at))
    row = await ledger.record("i-k", DELIVERED, change=Change(decision='{"y": 2}'))
    assert row is not None and row.wamid == "wamid.K" and row.decision == '{"y": 2}'
    assert row.next_attempt_at is None  # the next attempt's time is always what is given
    row = await ledger.record("i-k", DELIVERED, change=Change(wamid="wamid.K2"))
    assert row is not None and row.wamid == "wamid.K2" and row.decision == '{"y": 2}'


async def test_the_state_since_restarts_only_when_the_state_changes(ledger: Ledger) -> None:
    row, _ = await ledger.claim(_new("i-s"))
    await asyncio.sleep(0.01)
    same = await ledger.record(
        "i-s", QUEUED, expect=QUEUED, change=Change(next_attempt_at=_later())
    )
    assert same is not None and same.state_since == row.state_since
    await asyncio.sleep(0.01)
    moved = await ledger.record("i-s", FAILED, expect=QUEUED)
    assert moved is not None and moved.state_since is not None and row.state_since is not None
    assert moved.state_since > row.state_since


async def test_wamid_lookup_and_reporting(ledger: Ledger) -> None:
    await ledger.claim(_new("i-5"))
    await ledger.start_attempt("i-5")
    await ledger.record("i-5", ACCEPTED, change=Change(wamid="wamid.A"))
    row = await ledger.by_wamid("wamid.A")
    assert row is not None and row.intent_id == "i-5" and row.reported is None
    assert await ledger.by_wamid("wamid.NONE") is None
    later = _later()
    assert [r.intent_id for r in await ledger.unreported(later)] == ["i-5"]
    await ledger.mark_reported("i-5", ACCEPTED)
    assert await ledger.unreported(later) == []


async def test_a_report_of_a_state_the_intent_left_is_not_marked(ledger: Ledger) -> None:
    await ledger.claim(_new("i-r"))
    await ledger.record("i-r", DELIVERED)
    await ledger.mark_reported("i-r", ACCEPTED)  # an update published late
    row = await ledger.get("i-r")
    assert row is not None and row.reported is None
    assert [r.intent_id for r in await ledger.unreported(_later())] == ["i-r"]


async def test_internal_states_are_never_unreported(ledger: Ledger) -> None:
    await ledger.claim(_new("i-q"))
    await ledger.claim(_new("i-t"))
    await ledger.start_attempt("i-t")
    await ledger.claim(_new("i-x", LedgerState.REJECTED))
    assert [r.intent_id for r in await ledger.unreported(_later())] == ["i-x"]


async def test_a_wamid_belongs_to_one_intent(ledger: Ledger) -> None:
    await ledger.claim(_new("i-6"))
    await ledger.claim(_new("i-7"))
    await ledger.record("i-6", ACCEPTED, change=Change(wamid="wamid.B"))
    with pytest.raises(asyncpg.UniqueViolationError):
        await ledger.record("i-7", ACCEPTED, change=Change(wamid="wamid.B"))
    again = await ledger.record("i-6", DELIVERED, change=Change(wamid="wamid.B"))  # its own, again
    assert again is not None and again.wamid == "wamid.B"


async def test_the_queue_serves_due_intents_first_then_by_lane_then_the_soonest(
    ledger: Ledger,
) -> None:
    for intent_id, priority in [
        ("m-1", "marketing"), ("n-1", "notification"), ("r-1", "reply"), ("x-1", "bulk"),
        ("n-2", "notification"), ("r-later", "reply"),
    ]:  # fmt: skip
        await ledger.claim(_new(intent_id, priority=priority))
    await ledger.record("r-later", QUEUED, expect=QUEUED, change=Change(next_attempt_at=_later(60)))
    earlier = datetime.now(UTC) - timedelta(seconds=30)
    await ledger.record("n-2", QUEUED, expect=QUEUED, change=Change(next_attempt_at=earlier))
    await ledger.claim(_new("other", number="pn-other"))
    await ledger.claim(_new("done", LedgerState.REJECTED))
    order = [r.intent_id for r in await ledger.queued("pn")]
    # an unknown lane counts as the last one: x-1 goes with marketing, after the older m-1
    assert order == ["r-1", "n-2", "n-1", "m-1", "x-1", "r-later"]
    assert [r.intent_id for r in await ledger.queued("pn", limit=2)] == ["r-1", "n-2"]
    assert {r.intent_id for r in await ledger.queued()} == {*order, "other"}


async def test_the_numbers_with_queued_intents_are_listed_once(ledger: Ledger) -> None:
    await ledger.claim(_new("a-1", number="pn-a"))
    await ledger.claim(_new("a-2", number="pn-a"))
    await ledger.claim(_new("b-1", number="pn-b"))
    await ledger.claim(_new("c-1", LedgerState.REJECTED, number="pn-c"))
    await ledger.claim(_new("d-1", number="pn-d"))
    await ledger.start_attempt("d-1")
    assert sorted(await ledger.queued_numbers()) == ["pn-a", "pn-b"]


async def test_stale_rows_and_early_statuses(ledger: Ledger) -> None:
    await ledger.claim(_new("i-8"))
    await ledger.start_attempt("i-8")
    soon = _later()
    assert [r.intent_id for r in await ledger.stale(SENDING, soon)] == ["i-8"]
    assert await ledger.stale(SENDING, soon - timedelta(minutes=1)) == []
    await ledger.keep_status("wamid.C", "delivered", '{"a": 1}')
    await ledger.keep_status("wamid.C", "delivered", '{"a": 2}')  # a duplicate is ignored
    await ledger.keep_status("wamid.C", "read", '{"a": 3}')
    assert len(await ledger.take_statuses("wamid.C")) == 2
    assert await ledger.take_statuses("wamid.C") == []
    await ledger.keep_status("wamid.D", "sent", "{}")
    await ledger.forget_statuses(soon)
    assert await ledger.take_statuses("wamid.D") == []


async def test_kept_statuses_of_a_recorded_wamid_are_listed_once_until_taken(
    ledger: Ledger,
) -> None:
    await ledger.keep_status("wamid.K", "sent", "{}")
    await ledger.keep_status("wamid.K", "delivered", "{}")
    await ledger.keep_status("wamid.nobody", "sent", "{}")  # no intent has it: not listed
    assert await ledger.recorded_kept() == []
    await ledger.claim(_new("i-k"))
    await ledger.start_attempt("i-k")
    await ledger.record("i-k", LedgerState.ACCEPTED, change=Change(wamid="wamid.K"))
    assert await ledger.recorded_kept() == ["wamid.K"]  # once, for its two statuses
    assert len(await ledger.take_statuses("wamid.K")) == 2
    assert await ledger.recorded_kept() == []


async def test_unknown_sends_older_than_a_time_the_oldest_first(ledger: Ledger) -> None:
    for intent_id in ("u-1", "u-2", "u-3"):
        await ledger.claim(_new(intent_id))
        await ledger.start_attempt(intent_id)
        await ledger.record(intent_id, UNKNOWN, expect=SENDING)
        await asyncio.sleep(0.01)
    await ledger.claim(_new("q-1"))
    assert [r.intent_id for r in await ledger.stale(UNKNOWN, _later())] == ["u-1", "u-2", "u-3"]
    assert [r.intent_id for r in await ledger.stale(UNKNOWN, _later(), limit=2)] == ["u-1", "u-2"]
    assert await ledger.stale(UNKNOWN, datetime.now(UTC) - timedelta(minutes=1)) == []


async def test_kept_statuses_are_handed_out_whole_and_only_for_their_wamid(
    ledger: Ledger,
) -> None:
    await ledger.keep_status("wamid.E", "sent", '{"status": "sent"}')
    await ledger.keep_status("wamid.F", "sent", '{"status": "other"}')
    assert await ledger.take_statuses("wamid.E") == ['{"status": "sent"}']
    await ledger.forget_statuses(datetime.now(UTC) - timedelta(minutes=1))  # none that old
    assert await ledger.take_statuses("wamid.F") == ['{"status": "other"}']


async def test_intents_are_read_together_by_id_or_by_wamid_each_once(ledger: Ledger) -> None:
    for intent_id in ("i-1", "i-2", "i-3"):
        await ledger.claim(_new(intent_id))
    await ledger.record("i-2", ACCEPTED, change=Change(wamid="wamid.B"))
    await ledger.record("i-3", ACCEPTED, change=Change(wamid="wamid.C"))
    rows = await ledger.named(["i-1", "i-2", "nobody"], ["wamid.B", "wamid.C", "wamid.NONE"])
    assert sorted(r.intent_id for r in rows) == ["i-1", "i-2", "i-3"]
    assert {r.intent_id: r for r in rows}["i-3"] == await ledger.get("i-3")
    assert await ledger.named([], []) == []


async def test_moves_together_each_expect_their_state_in_one_call(ledger: Ledger) -> None:
    for intent_id in ("i-1", "i-2", "i-3", "i-4"):
        await ledger.claim(_new(intent_id))
        await ledger.record(intent_id, ACCEPTED)
    await ledger.record("i-4", ACCEPTED, change=Change(wamid="wamid.D"))
    moved = await ledger.record_many([
        ("i-1", DELIVERED, ACCEPTED, Change(wamid="wamid.A", report='{"wamid": "wamid.A"}')),
        ("i-2", DELIVERED, SENDING, Change()),  # no longer in the state expected
        ("i-3", DELIVERED, ACCEPTED, Change(wamid="wamid.D")),  # another intent's wamid
        ("nobody", DELIVERED, ACCEPTED, Change()),
    ])  # fmt: skip
    first, *others = moved
    assert others == [None, None, None]
    assert first is not None and (first.state, first.wamid) == (DELIVERED, "wamid.A")
    assert first.report is not None and json.loads(first.report) == {"wamid": "wamid.A"}
    assert first == await ledger.get("i-1")
    for intent_id in ("i-2", "i-3"):
        row = await ledger.get(intent_id)
        assert row is not None and (row.state, row.wamid) == (ACCEPTED, None)
    assert await ledger.record_many([]) == []


async def test_reports_marked_together_only_where_the_state_is_still_theirs(
    ledger: Ledger,
) -> None:
    for intent_id in ("i-1", "i-2"):
        await ledger.claim(_new(intent_id))
        await ledger.record(intent_id, DELIVERED)
    await ledger.mark_reported_many([("i-1", DELIVERED), ("i-2", ACCEPTED), ("nobody", FAILED)])
    reported = [(await ledger.get(i)) for i in ("i-1", "i-2")]
    assert [r.reported if r else "-" for r in reported] == [DELIVERED, None]
    await ledger.mark_reported_many([])


async def test_a_lost_ledger_is_a_retryable_error(ledger: Ledger) -> None:
    await ledger.claim(_new("i-9"))
    await _cut_off(ledger)
    with pytest.raises(LedgerUnavailable, match="ledger unavailable"):
        await ledger.get("i-9")
    with pytest.raises(LedgerUnavailable):
        await ledger.claim(_new("i-10"))


async def test_a_hand_back_is_kept_and_superseded_wamids_add_up(ledger: Ledger) -> None:
    await ledger.claim(_new("i-1"))
    first = Change(
        wamid="wamid.A", redecision='{"count": 1, "reason": "131047"}', supersede="wamid.A"
    )
    row = await ledger.record("i-1", LedgerState.REDECIDING, change=first)
    assert row is not None and row.superseded == ("wamid.A",) and row.wamid == "wamid.A"
    assert row.redecision is not None and json.loads(row.redecision)["count"] == 1
    row = await ledger.record("i-1", LedgerState.QUEUED, change=Change(supersede="wamid.B"))
    assert row is not None and row.superseded == ("wamid.A", "wamid.B")
    assert row.redecision is not None  # kept when not given
    again = await ledger.get("i-1")
    assert again is not None and again.superseded == ("wamid.A", "wamid.B")


async def test_each_state_keeps_what_its_update_says_and_a_new_state_its_own(
    ledger: Ledger,
) -> None:
    said = json.dumps({"reasons": ["OUTCOME_UNCONFIRMED"], "detail": "no answer"})
    claimed, _ = await ledger.claim(replace(_new("kept", state=LedgerState.REJECTED), report=said))
    assert claimed.report is not None and json.loads(claimed.report) == json.loads(said)
    await ledger.record("kept", UNKNOWN, change=Change(report=said))
    same = await ledger.record("kept", UNKNOWN)  # the same state, nothing said: kept
    assert same is not None and same.report is not None
    assert json.loads(same.report) == json.loads(said)
    moved = await ledger.record("kept", DELIVERED)  # a new state says its own, or nothing
    assert moved is not None and moved.report is None
