"""A partition's decisions handed over together (`Decisions.on_decisions`): each run of
approvals is claimed in one ledger call and handed to the senders in the decisions' order;
any other decision is handled alone where it stands; an error stops the batch there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiokafka import ConsumerRecord

from services.dispatch.backpressure import Backpressure
from services.dispatch.errors import LedgerUnavailable
from services.dispatch.handlers import Decisions
from services.dispatch.ledger import LedgerRow, LedgerState, NewIntent
from shared.consuming import Fed
from shared.errors import WagateError
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.intents import Redecision
from tests.services.dispatch.conftest import Reporting, approved
from tests.services.dispatch.fakes import FakeConsumer, RecordingScheduler

pytestmark = pytest.mark.unit


def _fed(decisions: list[PolicyDecisionMade]) -> list[Fed[PolicyDecisionMade]]:
    return [
        Fed(d, ConsumerRecord("decisions", 3, n, 0, 0, None, b"", None, 0, 0, ()))
        for n, d in enumerate(decisions)
    ]


def _parts() -> tuple[Reporting, RecordingScheduler, Decisions]:
    base, scheduler = Reporting.make(), RecordingScheduler()
    backpressure = Backpressure(FakeConsumer(), 10**6, 10**6, base.metrics.paused)
    decisions = Decisions(base.ledger, base.transitions, scheduler, backpressure, base.clock)
    return base, scheduler, decisions


def _refused(intent_id: str) -> PolicyDecisionMade:
    return approved(intent_id).model_copy(update={"outcome": "rejected"})


async def test_a_run_of_approvals_is_one_claim_and_queued_in_order() -> None:
    base, scheduler, decisions = _parts()
    ids = [f"i-{n}" for n in range(7)]
    outcomes = await decisions.on_decisions(_fed([approved(i) for i in ids]))
    assert outcomes == [None] * 7
    assert base.ledger.claim_batches == [7]
    assert [intent_id for intent_id, _, _ in scheduler.submitted] == ids
    assert all(base.ledger.rows[i].state == LedgerState.QUEUED for i in ids)


def _mixed() -> list[PolicyDecisionMade]:
    lapsed = approved("lapsed", valid_until=utcnow() - timedelta(seconds=1))  # handed back
    stale = approved("r", redecision=Redecision(count=1, reason="window_closed"))
    deferred = approved("later").model_copy(update={"outcome": "deferred"})
    first = approved("a")
    return [first, approved("b"), _refused("no"), approved("c"), lapsed, stale, deferred,
            approved("d"), first, approved("e")]  # fmt: skip


async def test_a_batch_ends_as_the_same_decisions_one_at_a_time_would() -> None:
    alone, alone_scheduler, one_by_one = _parts()
    for item in _fed(_mixed()):
        await one_by_one.on_decision(item.event, item.record)
    base, scheduler, decisions = _parts()
    assert await decisions.on_decisions(_fed(_mixed())) == [None] * 10
    states = {i: (r.state, r.decision is not None) for i, r in base.ledger.rows.items()}
    assert states == {i: (r.state, r.decision is not None) for i, r in alone.ledger.rows.items()}
    assert [i for i, _, _ in scheduler.submitted] == [i for i, _, _ in alone_scheduler.submitted]
    assert base.ledger.rows["no"].state == LedgerState.REJECTED
    # the runs: a b | (no) | c lapsed | (r) | (later) | d a e (the second a finds it claimed)
    assert base.ledger.claim_batches == [2, 2, 3]


async def test_a_ledger_failure_stops_the_batch_and_queues_nothing_after_it() -> None:
    base, scheduler, decisions = _parts()
    base.ledger.unavailable = True
    outcomes = await decisions.on_decisions(_fed([approved("a"), _refused("no"), approved("b")]))
    assert all(isinstance(o, LedgerUnavailable) for o in outcomes)
    assert len(outcomes) == 3
    assert scheduler.submitted == [] and base.ledger.rows == {}


async def test_a_failure_mid_batch_leaves_what_follows_untouched() -> None:
    base, scheduler, decisions = _parts()
    claim = base.ledger.claim

    async def refusing_no(new: NewIntent) -> tuple[LedgerRow, bool]:
        if new.intent_id == "no":
            raise LedgerUnavailable("cut off")
        return await claim(new)

    base.ledger.claim = refusing_no  # type: ignore[method-assign]
    batch = [approved("a"), approved("b"), _refused("no"), approved("c"), approved("d")]
    outcomes = await decisions.on_decisions(_fed(batch))
    assert outcomes[:2] == [None, None]
    assert [type(o) for o in outcomes[2:]] == [LedgerUnavailable] * 3
    assert [i for i, _, _ in scheduler.submitted] == ["a", "b"]
    assert set(base.ledger.rows) == {"a", "b"}


async def test_an_intent_twice_in_a_run_is_claimed_in_the_next_call() -> None:
    base, _scheduler, decisions = _parts()
    first = approved("x")
    assert await decisions.on_decisions(_fed([first, approved("y"), first])) == [None] * 3
    assert base.ledger.claim_batches == [2, 1]


class Refused(WagateError):
    retryable = False


async def test_a_permanent_refusal_of_a_claim_run_is_found_one_decision_at_a_time() -> None:
    base, scheduler, decisions = _parts()
    claim = base.ledger.claim

    async def refusing_many(news: list[NewIntent]) -> list[tuple[LedgerRow, bool]]:
        raise Refused("one of them is refused")

    async def refusing_b(new: NewIntent) -> tuple[LedgerRow, bool]:
        if new.intent_id == "b":
            raise Refused("b is refused")
        return await claim(new)

    base.ledger.claim_many = refusing_many  # type: ignore[method-assign]
    base.ledger.claim = refusing_b  # type: ignore[method-assign]
    outcomes = await decisions.on_decisions(_fed([approved("a"), approved("b"), approved("c")]))
    assert [type(o) for o in outcomes] == [type(None), Refused, type(None)]
    assert [i for i, _, _ in scheduler.submitted] == ["a", "c"]
