"""Dispatch end to end inside one process: the real ledger on PostgreSQL, the real senders,
a local fake Cloud API with scripted faults."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import codec
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.sealing import Sealer
from tests.conftest import SEALING_KEY
from tests.services.dispatch.conftest import Rig, approved, reported

pytestmark = pytest.mark.postgres


async def test_every_approved_intent_is_sent_once_and_accepted(rig: Rig) -> None:
    ids = [f"ok-{i}" for i in range(30)]
    for i, intent_id in enumerate(ids):
        await rig.decide(approved(intent_id, number=f"pn-{i % 3}", to=f"1650555{i:04d}"))
    await rig.wait_for(lambda: all(rig.states(i) == ["accepted"] for i in ids))
    assert all(rig.api.seen[i] == 1 for i in ids)
    row = await rig.ledger.get("ok-7")
    assert row is not None and row.state == "accepted" and row.wamid == rig.api.wamids["ok-7"][0]
    assert row.reported == "accepted"


async def test_a_redelivered_decision_is_not_sent_again(rig: Rig) -> None:
    decision = approved("again")
    await rig.decide(decision)
    await rig.wait_for(lambda: rig.states("again") == ["accepted"])
    await rig.decide(decision)
    await rig.decide(decision)
    assert rig.api.seen["again"] == 1 and rig.states("again") == ["accepted"]


async def test_throttling_and_transient_errors_are_retried_until_accepted(rig: Rig) -> None:
    rig.api.fail("flaky", ("error", 130429, 400), ("error", 131000, 500))
    await rig.decide(approved("flaky"))
    await rig.wait_for(lambda: rig.states("flaky") == ["accepted"])
    row = await rig.ledger.get("flaky")
    assert row is not None and row.attempts == 3 and rig.api.accepted["flaky"] == 1


async def test_exhausted_retries_fail_the_intent_and_dead_letter_it(rig: Rig) -> None:
    rig.api.fail("doomed", *[("error", 131016, 500)] * 4)
    await rig.decide(approved("doomed"))
    await rig.wait_for(lambda: rig.states("doomed") == ["failed"])
    update = rig.published.updates("doomed")[0]
    assert update.reasons == ["131016", "RETRIES_EXHAUSTED"]
    letters = [(e, h) for t, e, _, h in rig.published.events if t == "wagate.deadletter.v1"]
    assert len(letters) == 1 and letters[0][1]["wagate-intent-id"] == b"doomed"
    assert rig.api.seen["doomed"] == 4


async def test_a_permanent_error_ends_the_intent_with_metas_code_and_details(rig: Rig) -> None:
    rig.api.fail("bad", ("error", 132001, 404))
    await rig.decide(approved("bad"))
    await rig.wait_for(lambda: rig.states("bad") == ["failed"])
    update = rig.published.updates("bad")[0]
    assert update.reasons == ["132001"] and update.errors[0].code == 132001
    assert update.errors[0].details == "scripted" and rig.api.seen["bad"] == 1


async def test_a_marketing_opt_out_is_reported_to_policy(rig: Rig) -> None:
    rig.api.fail("promo", ("error", 131050, 400))
    await rig.decide(approved("promo", priority="marketing"))
    await rig.wait_for(lambda: rig.states("promo") == ["failed"])
    (consent,) = rig.published.on("wagate.consent.v1")
    assert isinstance(consent, ConsentChanged)
    assert (consent.customer, consent.opted_in, consent.category) == (
        "16505551234", False, "marketing",
    )  # fmt: skip


def _handed_back(rig: Rig, intent_id: str) -> list[OutboundIntentSubmitted]:
    return [
        e
        for e in rig.published.on("wagate.intents.v1")
        if isinstance(e, OutboundIntentSubmitted) and e.intent_id == intent_id
    ]


async def test_a_lapsed_approval_goes_back_to_policy_and_its_fresh_decision_is_sent(
    rig: Rig,
) -> None:
    past = utcnow() - timedelta(seconds=1)
    fallback = TemplateContent(name="order_update", language="en_US")
    await rig.decide(approved("fb", valid_until=past, fallback_template=fallback))
    await rig.wait_for(lambda: len(_handed_back(rig, "fb")) == 1)
    assert rig.api.seen["fb"] == 0 and rig.states("fb") == []
    row = await rig.ledger.get("fb")
    assert row is not None and row.state == "redeciding"
    [back] = _handed_back(rig, "fb")
    await rig.decide(approved("fb", content=fallback, redecision=back.redecision))
    await rig.wait_for(lambda: rig.states("fb") == ["accepted"])
    assert rig.api.seen["fb"] == 1


async def test_re_engagement_error_hands_the_intent_back_and_its_statuses_stop_counting(
    rig: Rig,
) -> None:
    rig.api.fail("late", ("error", 131047, 400))
    fallback = TemplateContent(name="order_update", language="en_US")
    window_end = utcnow() + timedelta(minutes=1)  # policy saw it open; Meta saw it closed
    await rig.decide(approved("late", fallback_template=fallback, valid_until=window_end))
    await rig.wait_for(lambda: len(_handed_back(rig, "late")) == 1)
    [back] = _handed_back(rig, "late")
    assert back.redecision is not None and back.redecision.reason == "131047"
    await rig.decide(approved("late", content=fallback, redecision=back.redecision))
    await rig.wait_for(lambda: rig.states("late") == ["accepted"])
    assert rig.api.seen["late"] == 2 and rig.api.accepted["late"] == 1
    row = await rig.ledger.get("late")
    assert row is not None and row.decision is not None and row.redecision is not None
    sent = codec.decode(PolicyDecisionMade, row.decision.encode())
    assert sent.intent.content == fallback


async def test_a_failed_131047_status_supersedes_the_send_in_the_ledger(rig: Rig) -> None:
    fallback = TemplateContent(name="order_update", language="en_US")
    await rig.decide(approved("async", fallback_template=fallback))
    await rig.wait_for(lambda: rig.states("async") == ["accepted"])
    row = await rig.ledger.get("async")
    assert row is not None and row.wamid is not None
    refused = [MetaError(code=131047)]
    await rig.status(reported("async", row.wamid, "failed", errors=refused))
    row = await rig.ledger.get("async")
    assert row is not None and row.state == "redeciding" and row.superseded == (row.wamid,)
    await rig.status(reported("async", row.wamid, "delivered"))
    assert rig.states("async") == ["accepted"] and len(_handed_back(rig, "async")) == 1


async def test_a_timeout_is_unknown_and_the_status_webhook_settles_it(rig: Rig) -> None:
    rig.api.fail("slow", ("hang", 1.0))
    await rig.decide(approved("slow"))
    await rig.wait_for(lambda: rig.states("slow") == ["unknown"])
    await rig.status(reported("slow", "wamid.LATE", "sent"))
    assert rig.states("slow") == ["unknown", "sent"]
    row = await rig.ledger.get("slow")
    assert row is not None and row.wamid == "wamid.LATE" and row.state == "sent"
    await rig.settler.settle_once()  # nothing left to settle
    assert rig.api.seen["slow"] == 1


def _otp(code: str) -> TemplateContent:
    body = {"type": "body", "parameters": [{"type": "text", "text": code, "sensitive": True}]}
    return TemplateContent(name="otp", language="en_US", components=[body])


async def test_sealed_parameters_are_opened_only_for_the_request(rig: Rig) -> None:
    token = Sealer([SEALING_KEY]).seal({"0.0.text": "483920"})
    await rig.decide(approved("otp", content=_otp("[redacted]"), sealed=token))
    await rig.decide(approved("otp-bad", content=_otp("[redacted]"), sealed="not-a-token"))
    await rig.wait_for(lambda: rig.states("otp") == ["accepted"])
    await rig.wait_for(lambda: rig.states("otp-bad") == ["failed"])
    sent = rig.api.bodies["otp"]["template"]["components"][0]["parameters"][0]
    assert sent == {"type": "text", "text": "483920"}
    row = await rig.ledger.get("otp")
    assert row is not None and row.decision is not None and "483920" not in row.decision
    assert rig.published.updates("otp-bad")[0].reasons == ["SEALED_PARAMETERS_UNREADABLE"]
    assert rig.api.seen["otp-bad"] == 0
