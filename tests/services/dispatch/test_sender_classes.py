"""Meta's sender classes as dispatch meets them: a paced template's answer, the codes that stop
a whole sender, Meta's cap on one customer's marketing and its marketing holdout, whether Meta
answers them at once or in a `failed` status."""

from __future__ import annotations

import pytest

from services.dispatch.cloudapi import SendOutcome
from services.dispatch.handback import MARKETING_CAPPED, PACED
from services.dispatch.ledger import LedgerState
from services.dispatch.sender import AttemptResult
from shared.events.common import MetaError
from shared.events.intents import OutboundIntentSubmitted
from shared.events.reasons import Reason
from shared.meta_errors import Scope
from tests.services.dispatch.conftest import approved, reported
from tests.services.dispatch.test_handlers import _error, _handed_back, _parts


def _paced(wamid: str) -> SendOutcome:
    return SendOutcome(200, wamid=wamid, message_status="held_for_quality_assessment")


async def test_a_paced_answer_is_reported_paced_then_its_release() -> None:
    parts = _parts()
    parts.api.script("i-1", _paced("wamid.P"))
    await parts.decide_and_attempt(approved("i-1"))
    row = await parts.ledger.get("i-1")
    assert row is not None and (row.state, row.wamid) == (LedgerState.PACED, "wamid.P")
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons, update.wamid) == ("paced", [Reason.PACED], "wamid.P")
    assert update.detail == PACED
    await parts.dispatcher.statuses.on_status(reported("i-1", "wamid.P", "sent"), None)
    await parts.dispatcher.statuses.on_status(reported("i-1", "wamid.P", "delivered"), None)
    assert parts.published.states("i-1") == ["paced", "sent", "delivered"]
    assert parts.api.count("i-1") == 1  # never sent again


async def test_a_paced_message_dropped_by_meta_fails_with_132015_and_is_not_handed_back() -> None:
    parts = _parts()
    parts.api.script("i-1", _paced("wamid.P"))
    await parts.decide_and_attempt(approved("i-1"))
    dropped = [MetaError(code=132015, title="Template is Paused")]
    await parts.dispatcher.statuses.on_status(
        reported("i-1", "wamid.P", "failed", errors=dropped), None
    )
    assert parts.published.states("i-1") == ["paced", "failed"]
    assert parts.published.updates("i-1")[-1].reasons == ["132015"]
    assert _handed_back(parts) == []


@pytest.mark.parametrize(
    ("code", "scope"), [(131048, Scope.PORTFOLIO), (131064, Scope.PORTFOLIO), (368, Scope.WABA)]
)
async def test_metas_stop_holds_the_intent_and_names_what_it_stopped(
    code: int, scope: Scope
) -> None:
    parts = _parts()
    parts.api.script("i-1", _error(code))
    result = await parts.decide_and_attempt(approved("i-1"))
    assert result == AttemptResult("hold", scope=scope)
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "queued" and row.attempts == 0  # waits, not failed
    [update] = parts.published.updates("i-1")
    assert (update.state, update.reasons) == ("held", [str(code), Reason.SENDER_HELD])
    assert "account update lifts it" in update.detail


def _hand_back_reason(back: OutboundIntentSubmitted) -> str:
    assert back.redecision is not None
    return back.redecision.reason


async def test_131049_at_once_hands_the_intent_back_to_policy() -> None:
    parts = _parts()
    parts.api.script("i-1", _error(131049))
    await parts.decide_and_attempt(approved("i-1"))
    [back] = _handed_back(parts)
    assert _hand_back_reason(back) == "131049"
    assert back.redecision is not None and back.redecision.detail == MARKETING_CAPPED
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "redeciding"
    assert parts.published.updates("i-1") == []


async def test_131049_in_a_failed_status_hands_the_intent_back_and_ignores_that_send() -> None:
    parts = _parts()
    await parts.decide_and_attempt(approved("i-1"))
    capped = [MetaError(code=131049, title="Meta chose not to deliver")]
    await parts.dispatcher.statuses.on_status(
        reported("i-1", "wamid.i-1", "failed", errors=capped), None
    )
    [back] = _handed_back(parts)
    assert _hand_back_reason(back) == "131049"
    row = await parts.ledger.get("i-1")
    assert row is not None and row.state == "redeciding" and "wamid.i-1" in row.superseded
    assert parts.published.states("i-1") == ["accepted"]  # policy's decision says what next


@pytest.mark.parametrize("at_once", [True, False])
async def test_the_marketing_holdout_fails_explained(at_once: bool) -> None:
    parts = _parts()
    holdout = MetaError(code=130472, title="User's number is part of an experiment")
    if at_once:
        parts.api.script("i-1", SendOutcome(400, error=holdout))
    await parts.decide_and_attempt(approved("i-1"))
    if not at_once:
        status = reported("i-1", "wamid.i-1", "failed", errors=[holdout])
        await parts.dispatcher.statuses.on_status(status, None)
    update = parts.published.updates("i-1")[-1]
    assert (update.state, update.reasons) == ("failed", ["130472", Reason.MARKETING_HOLDOUT])
    assert _handed_back(parts) == []
